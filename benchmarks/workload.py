"""The fixed benchmark workloads and the measuring helpers that every script in ``benchmarks/``
shares (``run_all.py``, ``bench_forward.py``, ``bench_value_and_grad.py``, ``bench_training.py``).

Workloads (documented in docs/performance.md):

* one sample: network ``Network(neuron, (700, 128, 20), recurrent=True)``, ``tau_m = 20 ms``,
  ``T = 1 s`` (times in seconds), weights ``init_params(seed)`` with every array multiplied by
  ``SCALES[model]`` ("scaled": hidden layer at roughly 10-30 Hz, the training regime); the input
  is a sample of FSDD-SHD (``load_sample``) or a seeded synthetic stand-in;
* one epoch: a 700-128(recurrent)-10 network trained with ``snnexact.training.train.train`` on
  FSDD-SHD's training split (the training file minus the fixed 10 % validation hold-out) or a
  synthetic stand-in (``training_splits``); only the training pass is timed. At the trainer's
  default initialisation (``w_mean = 0.5`` kicks) the LIF hidden layer fires 12,545 spikes per
  sample and 85 % of the samples hit its spike budget (12,800), QIF 1,340 and none (first 64
  training samples); ``LIF_MATCHED_W_MEAN`` gives LIF about QIF's activity (1,369 spikes).

Imports of numpy and snnexact happen inside the functions, so that a script can set Numba's
environment (cache folder, threads) before they load.
"""
import os
import platform
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
DATA_DIR = os.path.normpath(os.path.join(REPO, os.pardir, "shared", "data", "fsdd_shd"))
TRAIN_FILE = os.path.join(DATA_DIR, "fsdd_shd_train.h5")
TEST_FILE = os.path.join(DATA_DIR, "fsdd_shd_test.h5")
TARGET_SPIKES = 5000  # the "closest to 5,000 spikes" selection of the older figures
N_IN, N_HID, N_OUT = 700, 128, 20
N_CLASSES = 10  # the epoch workload's readout (FSDD: ten digits)
TAU_M = 0.020
LIF_MATCHED_W_MEAN = 0.03  # kicks: the LIF epoch at about QIF's hidden activity (see above)
T = 1.0
SCALES = {"lif": 2.0, "qif": 12.0}  # "scaled" configuration: hidden layer at roughly 10-30 Hz
MODELS = ("lif", "qif")


def load_sample(path, np, index=None, synthetic_spikes=TARGET_SPIKES):
    """``(times, units, description)`` of one benchmark input, sorted by (time, unit).

    ``index=None`` picks the sample of ``path`` whose spike count is closest to
    ``TARGET_SPIKES`` (lowest index among equals; the selection of the older figures);
    an integer picks that sample. Without the file: a seeded synthetic sample of
    ``synthetic_spikes`` spikes in the first 0.6 s with float16-quantised times (so that ties
    occur as in SHD), and a description that says so.
    """
    if path and os.path.exists(path):
        import h5py
        with h5py.File(path, "r") as f:
            times, units = f["spikes/times"], f["spikes/units"]
            if index is None:
                counts = np.array([t.shape[0] for t in times])
                i = int(np.argmin(np.abs(counts - TARGET_SPIKES)))
            else:
                i = int(index)
                if not 0 <= i < len(times):
                    raise ValueError(f"sample {i}: {path} holds {len(times)} samples")
            t = times[i].astype(np.float64)  # float16 -> float64 is exact
            u = units[i].astype(np.int64)
            name = f["extra/file_names"][i].decode() if "extra/file_names" in f else str(i)
        order = np.lexsort((u, t))
        return t[order], u[order], f"{os.path.basename(path)}[{i}] ({name}), {t.size} spikes"
    rng = np.random.default_rng(12345)
    t = np.sort(rng.uniform(0.0, 0.6 * T, synthetic_spikes)).astype(np.float16).astype(np.float64)
    u = rng.integers(0, N_IN, synthetic_spikes)
    order = np.lexsort((u, t))
    return (t[order], u[order],
            f"SYNTHETIC stand-in (seed 12345, float16 times), {synthetic_spikes} spikes")


def network(model, n_out=N_OUT):
    """The benchmark network ``(700, 128, n_out)``, recurrent hidden layer."""
    import snnexact
    neuron = snnexact.LIF(tau_m=TAU_M) if model == "lif" else snnexact.QIF(tau_m=TAU_M)
    return snnexact.Network(neuron, (N_IN, N_HID, n_out), recurrent=True)


def scaled_params(net, seed, scale):
    """``net.init_params(seed)`` with every weight array (W and R) multiplied by ``scale``."""
    from snnexact.engine.network import Params
    p0 = net.init_params(seed)
    return Params(tuple(w * scale for w in p0.W), tuple(None if r is None else r * scale
                                                         for r in p0.R))


def time_calls(call, repeats, np):
    """``(median s, min s, last result)`` of ``repeats`` timed calls of ``call()``."""
    ts = np.empty(repeats)
    res = None
    for r in range(repeats):
        t0 = time.perf_counter()
        res = call()
        ts[r] = time.perf_counter() - t0
    return float(np.median(ts)), float(ts.min()), res


def peak_memory(call):
    """The tracemalloc peak (bytes) of one ``call()`` (Numba's runtime allocates NumPy arrays
    through Python's allocator, so kernel allocations count; see ``tracemalloc_sees_numba``)."""
    import tracemalloc
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def tracemalloc_sees_numba(np):
    """True if an array allocated inside a Numba kernel shows up in tracemalloc (the kernels of
    ``value_and_grad`` take their buffers from Python, but the readouts' kernels allocate)."""
    import numba

    @numba.njit
    def allocate(n):
        return np.zeros(n)

    allocate(10)
    return peak_memory(lambda: allocate(2_000_000)) >= 16_000_000  # 16 MB in the kernel


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def git_commit():
    """``HEAD`` of the repository, with ``+dirty`` if tracked files differ from it."""
    def git(*args):
        return subprocess.run(["git", "-C", REPO, *args], capture_output=True, text=True,
                              check=False).stdout.strip()
    head = git("rev-parse", "HEAD") or "unknown"
    return head + ("+dirty" if git("status", "--porcelain", "--untracked-files=no") else "")


def load_average():
    try:
        return list(os.getloadavg())
    except OSError:  # pragma: no cover - platforms without getloadavg
        return None


def machine_facts(np):
    """CPU, cores, versions, commit and the snnexact package measured (another copy than the
    repository's when ``PYTHONPATH`` points elsewhere, e.g. for a before/after comparison)."""
    import numba
    import snnexact
    return {"cpu": cpu_name(), "n_cpus": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version(), "numpy": np.__version__,
            "numba": numba.__version__, "git_commit": git_commit(),
            "snnexact_package": os.path.dirname(os.path.abspath(snnexact.__file__))}


# ---------------------------------------------------------------------------------------------
# the epoch workload

def epoch_config(model, data_dir, max_samples=None, n_jobs=1, w_mean=None):
    """The ``TrainConfig`` of the epoch workload: 700-128(recurrent)-10, tau_m = 20 ms, T = 1 s,
    max-voltage readout, Adam, batch 32, chunks of 16, one epoch, default initialisation (or
    the mean weight ``w_mean``, in kicks)."""
    from snnexact.training.config import TrainConfig
    init = {} if w_mean is None else {"w_mean": w_mean}
    return TrainConfig(model=model, dataset="shd", data_path=data_dir, hidden=(N_HID,),
                       recurrent=True, tau_m=TAU_M, T=T, readout="max_voltage", optimiser="adam",
                       lr=2e-3, epochs=1, batch_size=32, chunk_size=16, max_samples=max_samples,
                       n_jobs=n_jobs, **init)


def training_splits(data_dir, max_samples=None, synthetic_samples=64, synthetic_spikes=400):
    """``(splits, description)`` for ``train``: FSDD-SHD's training split from ``data_dir``
    (of the first ``max_samples`` of the training file, if given), or without that folder (or
    with ``data_dir=None``) a seeded synthetic stand-in of ``synthetic_samples`` samples (at most
    ``max_samples``) of ``synthetic_spikes`` spikes each. Validation and test are left empty
    (their evaluation after the epoch is not timed, so it is not run)."""
    import numpy as np
    from snnexact.data.splits import Split, load_splits
    if data_dir is not None and os.path.isdir(data_dir):
        train, _, _, n_in, n_classes = load_splits(epoch_config("qif", data_dir, max_samples))
        desc = f"FSDD-SHD {data_dir}: {len(train)} training samples"
    else:
        if max_samples is not None:
            synthetic_samples = min(synthetic_samples, int(max_samples))
        rng = np.random.default_rng(2024)
        times, units = [], []
        for _ in range(synthetic_samples):
            t = np.sort(rng.uniform(0.0, 0.6 * T, synthetic_spikes))
            u = rng.integers(0, N_IN, synthetic_spikes)
            order = np.lexsort((u, t))
            times.append(t[order])
            units.append(u[order])
        labels = rng.integers(0, N_CLASSES, synthetic_samples)
        train = Split("train", times, units, labels, N_IN, N_CLASSES)
        n_in, n_classes = N_IN, N_CLASSES
        desc = f"SYNTHETIC stand-in: {synthetic_samples} samples of {synthetic_spikes} spikes"
    return (train, _empty_split("validation"), _empty_split("test"), n_in, n_classes), desc


def _empty_split(name):
    import numpy as np
    from snnexact.data.splits import Split
    return Split(name, [], [], np.zeros(0, np.int64), N_IN, N_CLASSES)


def time_epoch(model, n_jobs, splits, data_dir=None, backend="loky", w_mean=None):
    """``(training-pass seconds, parameter bytes)`` of one epoch of the epoch workload on
    ``splits`` with ``n_jobs`` workers of ``backend`` (kernel compilation and worker start-up
    excluded: ``train`` warms up before its clock starts; validation and test are empty, so
    nothing else is run)."""
    import dataclasses
    import tempfile
    from snnexact.training.train import train
    cfg = dataclasses.replace(epoch_config(model, data_dir, n_jobs=n_jobs, w_mean=w_mean),
                              backend=backend)
    with tempfile.TemporaryDirectory(prefix="snnexact_bench_epoch_") as tmp:
        _, params, hist = train(cfg, tmp, progress=False, splits=splits)
    return hist[0]["train_seconds"], b"".join(a.tobytes() for a in params.named().values())
