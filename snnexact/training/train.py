"""Minibatch training with exact gradients, spread over CPU cores.

Per batch, the samples are cut into fixed chunks of ``chunk_size`` (independent of the number of
workers); each chunk sums its samples' gradients in sample order, and the chunk sums are added in
chunk order. The result is therefore bitwise identical for any ``n_jobs`` and backend. All
randomness (initialisation, shuffling, augmentation) is drawn from generators keyed by
``(seed, purpose, epoch, sample)``, so a run resumed from a checkpoint continues exactly.
"""
import json
import math
import os
from pathlib import Path
import time
import warnings

import numpy as np

from snnexact.training import checkpoint, optim
from snnexact.data.splits import augmentation, load_splits
from snnexact.engine.gradients import LossConfig, simulated_layers
from snnexact.engine.network import Network
from snnexact.engine.neurons import neuron_from_config
from snnexact.training.batches import ChunkJob, run_chunk, run_chunks
from snnexact.training.parallel import executor
from snnexact.engine.simulate import SpikeBudgetWarning

CHECKPOINT = "checkpoint.npz"
METRICS = "metrics.jsonl"
CONFIG = "config.toml"
# settings that do not change the result (bitwise), so a run may resume with other values
EXECUTION_FIELDS = frozenset({"n_jobs", "backend", "scheduler"})


def build_network(cfg, n_in, n_out):
    return Network(neuron_from_config(cfg), (n_in, *cfg.hidden, n_out), recurrent=cfg.recurrent)


def loss_config(cfg):
    return LossConfig(readout=cfg.readout, tau_r=cfg.tau_r, gamma=cfg.gamma, alpha=cfg.alpha,
                      pseudo=cfg.pseudo, window=cfg.window, silence_reg=cfg.silence_reg,
                      rate_reg=cfg.rate_reg, rate_lower=cfg.rate_lower,
                      rate_upper=math.inf if cfg.rate_upper is None else cfg.rate_upper)


def chunks(items, size):
    """``items`` cut into consecutive lists of ``size`` (the last one may be shorter)."""
    return [items[i:i + size] for i in range(0, len(items), size)]


def gather(split, idx, aug, cfg, epoch):
    """``[(times, units, label)]`` of the samples ``idx`` of ``split``, augmented with ``aug``
    (if not ``None``) from the generator keyed by ``(cfg.seed, 3, epoch, sample)``."""
    out = []
    for i in idx:
        t, u = split.times[i], split.units[i]
        if aug is not None:
            t, u = aug(t, u, rng=np.random.default_rng([cfg.seed, 3, epoch, int(i)]))
        out.append((t, u, int(split.labels[i])))
    return out


def evaluate_split(run, network, params, split, cfg):
    """Loss, accuracies (with/without pseudospikes), hidden activity of ``params`` on ``split``."""
    job = ChunkJob(network, params, cfg.T, loss_config(cfg), cfg.max_spikes, False)
    samples = gather(split, range(len(split)), None, cfg, 0)
    results = run_chunks(run, job, chunks(samples, cfg.chunk_size))
    return summarise([r for res in results for r in res[2]], network)


def summarise(records, network):
    n = len(records)
    if n == 0:
        return {}
    loss = sum(r[0] for r in records) / n
    acc = sum(r[1] == r[3] for r in records) / n
    acc_plain = sum(r[2] == r[3] for r in records) / n
    out = {"loss": loss, "acc": acc, "acc_no_pseudo": acc_plain,
           "no_output_fraction": sum(r[1] == -1 for r in records) / n,
           "budget_hits": int(sum(r[4] != 0 for r in records))}
    n_hidden_layers = len(network.sizes) - 2
    if n_hidden_layers:
        totals = [sum(r[5][l] for r in records) for l in range(n_hidden_layers)]
        out["hidden_spikes_per_sample"] = float(sum(t.sum() for t in totals)) / n
        out["silent_hidden_fraction"] = float(np.mean(np.concatenate(totals) == 0))
    return out


def check_output_dir(path, what="--out"):
    """Create the folder ``path`` (and parents) and check that files can be written there;
    ``ValueError`` naming ``what`` and the reason otherwise. Called before any training."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except FileExistsError:
        raise ValueError(f"{what} {path}: a file of that name exists; pass a folder") from None
    except NotADirectoryError:
        raise ValueError(f"{what} {path}: a part of the path is a file, not a folder") from None
    except PermissionError:
        raise ValueError(f"{what} {path}: no permission to write there") from None
    except OSError as exc:
        raise ValueError(f"{what} {path}: cannot write there ({exc.strerror})") from None
    return path


def warm_up(run, network, split, cfg, log=None):
    """Compile (or load from Numba's cache) every kernel a training step uses, in every worker
    (one one-sample task per worker, as far as the backend spreads them) and the optimiser's in
    the caller, before the clock of the first epoch starts; returns the seconds it took (worker
    start-up included)."""
    if len(split) == 0:
        return 0.0
    if log is not None:
        log("compiling the simulation and gradient kernels (cached on disk after the first "
            "run; this can take a minute)...")
    t0 = time.perf_counter()
    params = network.init_params(0)
    job = ChunkJob(network, params, cfg.T, loss_config(cfg), cfg.max_spikes, True)
    run(run_chunk, [(job, gather(split, [0], None, cfg, 0))] * max(1, cfg.n_jobs))
    optim.apply(cfg.optimiser, params, optim.zeros_like(params), optim.init_state(params), 0.0)
    seconds = time.perf_counter() - t0
    if log is not None:
        log(f"kernels ready in {seconds:.1f} s")
    return seconds


def initial_params(cfg, network):
    """The parameters training starts from: ``init_params`` with the generator keyed by
    ``(cfg.seed, 1)`` and the scales ``w_mean, w_std, r_std, out_std`` (in units of the model's
    ``kick``), plus trained initial voltages if ``cfg.train_v0``."""
    params = network.init_params([cfg.seed, 1], *(None if v is None else v * network.kick
                                                  for v in (cfg.w_mean, cfg.w_std, cfg.r_std,
                                                            cfg.out_std)))
    if cfg.train_v0:
        params = network.with_initial_voltages(params, simulated_layers(network, cfg.readout))
    return params


def train(cfg, out_dir, resume=False, progress=True, splits=None, log=None, on_checkpoint=None,
          on_epoch=None):
    """Train per ``cfg``; writes ``config.toml``, ``metrics.jsonl`` and ``checkpoint.npz`` into
    ``out_dir``. With ``resume`` it continues from the checkpoint there. Returns
    ``(network, params, history)``.

    ``log`` (e.g. ``print``) receives progress messages (kernel compilation); ``on_checkpoint``
    is called as ``on_checkpoint(epoch, batch)`` right after each checkpoint is written (the
    state it holds resumes at that epoch and batch); ``on_epoch(entry)`` with each epoch's
    metrics after its checkpoint is written (an exception it raises stops training there). Each history entry holds ``train_seconds``
    and ``epoch_seconds`` without the one-off kernel compilation, which is ``compile_seconds``
    in the first entry of this process.
    """
    out_dir = check_output_dir(out_dir)
    ckpt_path = out_dir / CHECKPOINT
    train_set, val_set, test_set, n_in, n_out = splits if splits is not None else load_splits(cfg)
    if len(train_set) == 0:
        raise ValueError("the training split holds 0 samples (check data_path, max_samples and "
                         "validation_fraction)")
    network = build_network(cfg, n_in, n_out)
    if resume and ckpt_path.exists():
        params, opt_state, meta = checkpoint.load(ckpt_path)
        saved, now = json.loads(meta["config"]), json.loads(cfg.to_json())
        differ = sorted(k for k in now if k not in EXECUTION_FIELDS and saved.get(k) != now[k])
        if differ:
            raise ValueError(f"--resume: the config differs from the one in {ckpt_path} in "
                             f"{differ} (only {sorted(EXECUTION_FIELDS)} may change)")
        start_epoch, start_batch, history = meta["epoch"], meta["batch"], meta["history"]
        epoch_acc = meta["extra"].get("epoch_records", [])
        epoch_norms = meta["extra"].get("grad_norms", [])
    else:
        params = initial_params(cfg, network)
        opt_state = optim.init_state(params)
        start_epoch, start_batch, history, epoch_acc, epoch_norms = 0, 0, [], [], []
    (out_dir / CONFIG).write_text(cfg.to_toml())
    _write_metrics(out_dir / METRICS, history)
    aug = augmentation(cfg, n_in)
    n_batches = math.ceil(len(train_set) / cfg.batch_size)
    # the bar counts samples, training and evaluation alike, so that its ETA includes the
    # per-epoch evaluation (kernels are compiled before it starts: see warm_up)
    per_epoch = len(train_set) + len(val_set) + len(test_set)
    bar = _progress(progress, cfg.epochs * per_epoch,
                    start_epoch * per_epoch + min(start_batch * cfg.batch_size, len(train_set)),
                    f"{cfg.model.upper()} seed {cfg.seed}")
    with executor(cfg.backend, cfg.n_jobs, cfg.scheduler) as run:
        compile_seconds = warm_up(run, network, train_set, cfg, log) \
            if start_epoch < cfg.epochs else None
        for epoch in range(start_epoch, cfg.epochs):
            t0 = time.perf_counter()
            lr = optim.learning_rate(cfg.lr, cfg.lr_schedule, epoch, cfg.epochs, cfg.lr_step_every)
            order = np.random.default_rng([cfg.seed, 2, epoch]).permutation(len(train_set))
            records = [tuple(r) for r in epoch_acc] if epoch == start_epoch else []
            norms = list(epoch_norms) if epoch == start_epoch else []
            for b in range(start_batch if epoch == start_epoch else 0, n_batches):
                idx = order[b * cfg.batch_size:(b + 1) * cfg.batch_size]
                job = ChunkJob(network, params, cfg.T, loss_config(cfg), cfg.max_spikes, True)
                parts = chunks(gather(train_set, idx, aug, cfg, epoch), cfg.chunk_size)
                results = run_chunks(run, job, parts)
                grads = _reduce(results, len(idx))
                norms.append({k: float(np.linalg.norm(g)) for k, g in grads.named().items()})
                optim.clip_by_global_norm(grads, cfg.clip_norm)
                optim.apply(cfg.optimiser, params, grads, opt_state, lr)
                network.project_v0(params)
                records += [r[:5] for res in results for r in res[2]]
                bar.update(len(idx))
                if cfg.checkpoint_every and (b + 1) % cfg.checkpoint_every == 0 and b + 1 < n_batches:
                    checkpoint.save(ckpt_path, params, opt_state, epoch, b + 1, cfg.to_json(),
                                    history, {"epoch_records": _jsonable(records),
                                              "grad_norms": norms})
                    if on_checkpoint is not None:
                        on_checkpoint(epoch, b + 1)
            entry = {"epoch": epoch + 1, "lr": lr, "train_seconds": time.perf_counter() - t0}
            entry.update({f"train_{k}": v for k, v in _train_summary(records).items()})
            # per parameter array: mean over the epoch's batches of the gradient norm
            entry.update({f"grad_norm_{k}": float(np.mean([n[k] for n in norms]))
                          for k in (norms[0] if norms else {})})
            for name, split in (("val", val_set), ("test", test_set)):
                entry.update({f"{name}_{k}": v for k, v in
                              evaluate_split(run, network, params, split, cfg).items()})
            bar.update(len(val_set) + len(test_set))
            entry["epoch_seconds"] = time.perf_counter() - t0
            if compile_seconds is not None:
                entry["compile_seconds"] = compile_seconds
                compile_seconds = None
            _warn_budget(entry, len(val_set) + len(test_set), cfg)
            history.append(entry)
            checkpoint.save(ckpt_path, params, opt_state, epoch + 1, 0, cfg.to_json(), history)
            _write_metrics(out_dir / METRICS, history)
            if on_checkpoint is not None:
                on_checkpoint(epoch + 1, 0)
            bar.set_postfix(val_acc=f"{entry.get('val_acc', float('nan')):.3f}")
            start_batch, epoch_acc, epoch_norms = 0, [], []
            if on_epoch is not None:
                on_epoch(entry)
    bar.close()
    return network, params, history


def _warn_budget(entry, n_samples, cfg):
    """Warn when most evaluated samples hit the spike budget (their results are truncated)."""
    hits = entry.get("val_budget_hits", 0) + entry.get("test_budget_hits", 0)
    if n_samples and hits > n_samples / 2:
        budget = "the default" if cfg.max_spikes is None else cfg.max_spikes
        warnings.warn(f"epoch {entry['epoch']}: {hits} of {n_samples} validation and test "
                      f"samples hit the spike budget (max_spikes = {budget}); their simulations "
                      f"stop early and the accuracy is not meaningful. Weaker weights (w_mean, "
                      f"w_std) or a larger max_spikes help.", SpikeBudgetWarning, stacklevel=2)


def _train_summary(records):
    n = len(records)
    if not n:
        return {}
    return {"loss": sum(r[0] for r in records) / n, "acc": sum(r[1] == r[3] for r in records) / n}


def _jsonable(records):
    return [[float(r[0]), int(r[1]), int(r[2]), int(r[3]), int(r[4])] for r in records]


def _reduce(results, n):
    """Chunk sums added in chunk order, divided by the batch size (the mean gradient)."""
    total = results[0][1].copy()
    for _, grads, _ in results[1:]:
        for t, g in zip(total.named().values(), grads.named().values()):
            t += g
    return total.map(lambda a: a / n)


def _write_metrics(path, history):
    tmp = path.with_suffix(".tmp")
    tmp.write_text("".join(json.dumps(h) + "\n" for h in history))
    tmp.replace(path)


class _NoBar:
    def update(self, n):
        pass

    def set_postfix(self, **kw):
        pass

    def close(self):
        pass


def _progress(enabled, total, initial, desc):
    if not enabled:
        return _NoBar()
    from tqdm.auto import tqdm
    return tqdm(total=total, initial=initial, desc=desc, unit="sample", leave=False)
