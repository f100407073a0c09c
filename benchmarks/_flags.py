import os, sys, tempfile, collections
os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp()
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import workload as wl
import numpy as np
from numba.core import targetconfig, event
import numba.core.typing.templates as T
seen = collections.defaultdict(set)
orig = T._OverloadFunctionTemplate._build_impl
def bi(self, cache_key, args, kws):
    fl = cache_key[3] if cache_key else None
    seen[self._overload_func.__qualname__ if hasattr(self._overload_func,'__qualname__') else str(self)].add(str(fl))
    print("BUILD", getattr(self, 'key', None).__name__ if hasattr(getattr(self,'key',None),'__name__') else self.key, str(args)[:60], str(fl)[:400])
    return orig(self, cache_key, args, kws)
T._OverloadFunctionTemplate._build_impl = bi
import snnexact
times, units, desc = wl.load_sample(wl.TEST_FILE, np, 32)
for model in ["qif"]:
    net = wl.network(model); params = wl.scaled_params(net, 0, wl.SCALES[model])
    snnexact.value_and_grad(net, params, times, units, 0, wl.T)
