"""A batch's chunks of samples: losses and gradients summed in sample order, spread over the
executor's parties with the load balanced sample by sample.

A chunk's result is ``(loss sum, gradient sum, records)``, the sums taken in sample order from
zero (``run_chunk``); the chunks are fixed by the config, not by the number of workers, so the
batch's result is bitwise the same for any ``n_jobs`` and backend. With more than one party the
chunks are shared out through a claim table (``training/claims.py``): each party sums the chunks
it owns from the front and, when none is left, steals single samples from the back of the chunk
with the most left. ``assemble`` adds the stolen samples to their owner's running sum in sample
order, which gives the same bits as ``run_chunk``. Without it, the slower of a batch's two
chunks set the pace: 4.4 % of a QIF epoch on two processes (docs/performance.md, issue 13,
session 9).
"""
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from snnexact.engine.gradients import LossConfig, sample_value_and_grad, simulated_layers
from snnexact.engine.network import Network, Params
from snnexact.engine.simulate import transposed_weights

# chunks per party in one balanced call (what bounds the samples sent to every worker at once)
CHUNKS_PER_PARTY = 4


@dataclass(frozen=True)
class ChunkJob:
    """What a party needs for a batch (picklable, small apart from the weights)."""

    network: Network
    params: Params
    T: float
    loss_cfg: LossConfig
    max_spikes: object
    want_grad: bool


class SampleRecord(NamedTuple):
    """What a chunk reports per sample (``hidden_counts``: spikes per hidden neuron)."""

    loss: float
    prediction: int
    prediction_no_pseudo: int
    label: int
    status: int
    hidden_counts: list


class _Prepared:
    """What every sample of a job shares: the weights as lists, the initial state and the
    transposed weights (prepared once per chunk or party, not per sample)."""

    def __init__(self, job):
        p, net = job.params, job.network
        self.job = job
        self.W, self.R = list(p.W), list(p.R)
        self.init = net.initial_state(p, simulated_layers(net, job.loss_cfg.readout))
        self.transposed = transposed_weights(net, self.W, self.R)

    def sample(self, times, units, label):
        """``(loss, gradient terms, SampleRecord)`` of one sample; the gradient terms are the
        kernel's ``(grads, initial-state grads)`` (``None`` without ``want_grad``)."""
        job, net = self.job, self.job.network
        value, grads, ev = sample_value_and_grad(net, self.W, self.R, times, units, label, job.T,
                                                 job.loss_cfg, job.want_grad, input_grads=False,
                                                 max_spikes=job.max_spikes, on_budget="ignore",
                                                 initial_state=self.init,
                                                 transposed=self.transposed)
        hidden = ev.simulation.layers[:len(net.sizes) - 2]
        counts = [np.bincount(L.units, minlength=net.sizes[l + 1]) for l, L in enumerate(hidden)]
        record = SampleRecord(value, ev.prediction, ev.prediction_no_pseudo, label,
                              ev.simulation.status, counts)
        terms = (grads, [g[0] for g in ev.initial_state_grads]) if job.want_grad else None
        return value, terms, record


class _RunningSum:
    """A chunk's sums from zero, in the order samples are added: the loss, the gradients (in
    the kernels' own layout, transposed views, so that each add is contiguous) and records."""

    def __init__(self, job):
        self.loss = 0.0
        self.grad = job.params.map(lambda a: np.zeros(a.shape[::-1]).T) if job.want_grad \
            else None
        self.records = []

    def add(self, value, terms, record):
        self.loss += value
        if self.grad is not None:
            grads, v0 = terms
            for group in ("W", "R"):
                for t, g in zip(self.grad.arrays(group), grads.arrays(group)):
                    if t is not None:
                        t += g
            for t, g in zip(self.grad.arrays("V0"), v0):
                if t is not None:
                    t += g
        self.records.append(record)

    def result(self):
        grad = None if self.grad is None else self.grad.map(np.ascontiguousarray)
        return self.loss, grad, self.records


def run_chunk(args):
    """``(loss sum, grads, records)`` of one ``(ChunkJob, samples)`` pair: losses and gradients
    (a ``Params``, ``None`` without ``want_grad``) summed in sample order, and one
    ``SampleRecord`` per sample; ``samples`` is a list of ``(times, units, label)``."""
    job, samples = args
    prepared, running = _Prepared(job), _RunningSum(job)
    for sample in samples:
        running.add(*prepared.sample(*sample))
    return running.result()


def run_party(args):
    """One party's share of ``(job, chunks, claims, party, n_parties)``: ``(owned, stolen)``,
    ``owned`` mapping each chunk it owned to its ``_RunningSum`` over the samples it claimed
    from the front, ``stolen`` a list of ``(chunk, sample, (value, terms, record))``."""
    job, chunks, claims, party, n_parties = args
    prepared = _Prepared(job)
    owned, stolen = {}, []
    while True:
        c, i = claims.pick(party, n_parties)
        if c < 0:
            return owned, stolen
        if i > 0:  # a steal (a chunk's sample 0 is always claimed by its owner)
            stolen.append((c, i, prepared.sample(*chunks[c][i])))
            continue
        running = owned[c] = _RunningSum(job)
        while i >= 0:
            running.add(*prepared.sample(*chunks[c][i]))
            i = claims.next_of(c)


def assemble(chunks, parties):
    """``[run_chunk((job, c)) for c in chunks]`` from the parties' ``(owned, stolen)``: per
    chunk its owner's running sum (the owner always has the chunk's first sample), then the
    stolen samples in sample order."""
    owners = {c: running for owned, _ in parties for c, running in owned.items()}
    stolen = sorted(((c, i, out) for _, taken in parties for c, i, out in taken),
                    key=lambda s: s[:2])
    results = []
    for c, samples in enumerate(chunks):
        running = owners.get(c)
        extra = [(i, out) for cc, i, out in stolen if cc == c]
        n_owned = 0 if running is None else len(running.records)
        if n_owned == 0 or [i for i, _ in extra] != list(range(n_owned, len(samples))):
            raise RuntimeError(f"chunk {c}: the parties' claims do not cover its "
                               f"{len(samples)} samples once each")
        for _, out in extra:
            running.add(*out)
        results.append(running.result())
    return results


def run_chunks(run, job, chunks):
    """``[run_chunk((job, c)) for c in chunks]`` on the executor ``run`` (see
    ``training/parallel.py``): balanced through its claim table when it has one and more than
    one party, one task per chunk otherwise.

    Every party receives all the samples of a call (it may steal any of them), so the chunks go
    in groups of at most ``CHUNKS_PER_PARTY * n_parties`` per call: a training batch is one
    call, while a whole split (evaluation) does not go to every worker at once."""
    claims = getattr(run, "claims", None)
    n_parties = getattr(run, "n_jobs", 1)
    if claims is None or n_parties < 2 or len(chunks) == 0:
        return run(run_chunk, [(job, c) for c in chunks])
    size = CHUNKS_PER_PARTY * n_parties
    results = []
    for group in (chunks[i:i + size] for i in range(0, len(chunks), size)):
        claims.reset([len(c) for c in group])
        parties = run(run_party, [(job, group, claims, k, n_parties) for k in range(n_parties)])
        results += assemble(group, parties)
    return results
