import os, sys, tempfile, time
cache = tempfile.mkdtemp(); os.environ["NUMBA_CACHE_DIR"] = cache
os.environ["NUMBA_LLVM_PASS_TIMINGS"] = "1"
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import workload as wl
import numpy as np, snnexact
from snnexact.engine import simulate, backward
times, units, desc = wl.load_sample(wl.TEST_FILE, np, 32)
for model in ["lif", "qif"]:
    net = wl.network(model); params = wl.scaled_params(net, 0, wl.SCALES[model])
    t0 = time.perf_counter(); snnexact.value_and_grad(net, params, times, units, 0, wl.T); print(model, time.perf_counter() - t0)
for disp in [simulate.event_loop, backward.reverse_loop, simulate.replay, simulate.earliest_spike]:
    for sig in disp.signatures:
        md = disp.get_metadata(sig)
        pt = md["pipeline_times"]["nopython"]
        tot = {k: v.run for k, v in pt.items()}
        top = sorted(tot.items(), key=lambda kv: -kv[1])[:5]
        print(disp.py_func.__name__, str(sig[0])[:12], " ".join(f"{k.split('_',1)[1]}={v:.2f}" for k, v in top))
        lt = md.get("llvm_pass_timings")
        if lt is not None:
            for rec in lt:
                print("    llvm", rec.name, round(rec.timings.get_total_time(), 2))
