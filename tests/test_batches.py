"""Chunks of a batch shared out sample by sample: the claim table, and sums bitwise equal to
one chunk at a time whoever computes which sample."""
import threading

import numpy as np
import pytest

from snnexact.engine.gradients import LossConfig
from snnexact.engine.network import Network
from snnexact.engine.neurons import LIF, QIF
from snnexact.training import batches
from snnexact.training.batches import ChunkJob, assemble, run_chunk, run_chunks, run_party
from snnexact.training.claims import FileClaims, ThreadClaims
from snnexact.training.parallel import executor


def _job(model, want_grad=True):
    net = Network(model(1.0), (5, 6, 3), recurrent=True)
    params = net.init_params(3, 0.6 * net.kick, 0.5 * net.kick)
    return ChunkJob(net, params, 3.0, LossConfig(readout="max_voltage"), None, want_grad)


def _chunks(sizes, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for size in sizes:
        chunk = []
        for _ in range(size):
            n = int(rng.integers(3, 12))
            chunk.append((np.sort(rng.uniform(0.0, 2.0, n)), rng.integers(0, 5, n),
                          int(rng.integers(0, 3))))
        out.append(chunk)
    return out


def _bits(results):
    """The bytes of every loss sum, gradient array and record of chunk results."""
    out = []
    for loss, grads, records in results:
        out.append(np.float64(loss).tobytes())
        if grads is not None:
            out += [a.tobytes() for a in grads.named().values()]
        out += [repr(r[:5]).encode() + b"".join(c.tobytes() for c in r[5]) for r in records]
    return out


@pytest.mark.parametrize("make", [ThreadClaims, "file"])
def test_claims_owner_takes_the_front_and_thieves_the_back(make, tmp_path):
    claims = ThreadClaims() if make is ThreadClaims else FileClaims(str(tmp_path / "claims"))
    claims.reset([3, 6, 2])
    assert claims.pick(1, 2) == (1, 0)        # party 1's own chunk first
    assert claims.pick(0, 2) == (0, 0)
    assert claims.pick(0, 2) == (2, 0)        # then any chunk nobody started
    assert [claims.next_of(1) for _ in range(2)] == [1, 2]
    assert claims.pick(0, 2) == (1, 5)        # none fresh: the last of the longest rest
    assert claims.pick(0, 2) == (0, 2)        # a tie goes to the first chunk
    assert claims.next_of(0) == 1 and claims.next_of(0) == -1
    assert claims.pick(1, 2) == (1, 4)
    assert claims.next_of(1) == 3 and claims.next_of(1) == -1
    assert claims.pick(1, 2) == (2, 1)
    assert claims.next_of(2) == -1
    assert claims.pick(0, 2) == (-1, -1)
    claims.reset([1])                         # a smaller table replaces a larger one
    assert claims.pick(0, 2) == (0, 0) and claims.pick(1, 2) == (-1, -1)


def _claim_all(args):
    claims, party, n_parties = args
    got = []
    while True:
        c, i = claims.pick(party, n_parties)
        if c < 0:
            return got
        got.append((c, i))
        if i == 0:
            while (i := claims.next_of(c)) >= 0:
                got.append((c, i))


@pytest.mark.parametrize("backend", ["loky", "threads"])
def test_claims_give_each_sample_to_one_party(backend):
    sizes = [50] * 40
    with executor(backend, 3) as run:
        for _ in range(3):
            run.claims.reset(sizes)
            parties = run(_claim_all, [(run.claims, k, 3) for k in range(3)])
            every = sorted(x for got in parties for x in got)
            assert every == [(c, i) for c, n in enumerate(sizes) for i in range(n)]


@pytest.mark.parametrize("model", [QIF, LIF])
def test_assembled_steals_equal_one_chunk_at_a_time_bitwise(model):
    """Party 1 owned the first two samples of chunk 1, party 0 owned chunk 0 and stole the rest
    of chunk 1 from its back; their parts add up to ``run_chunk``'s sums, bit for bit."""
    job, chunks = _job(model), _chunks([4, 5])
    first = ThreadClaims()
    first.reset([4, 5])
    assert first.pick(1, 2) == (1, 0) and first.next_of(1) == 1   # party 1 has samples 0, 1
    zero = run_party((job, chunks, first, 0, 2))
    second = ThreadClaims()
    second.reset([4, 2])                      # as party 1 saw it: chunk 1 ends after sample 1
    assert second.pick(0, 2) == (0, 0) and [second.next_of(0) for _ in range(3)] == [1, 2, 3]
    one = run_party((job, chunks, second, 1, 2))
    assert sorted(zero[0]) == [0] and [(c, i) for c, i, _ in zero[1]] == [(1, 4), (1, 3), (1, 2)]
    assert sorted(one[0]) == [1] and len(one[0][1].records) == 2 and not one[1]
    expect = [run_chunk((job, c)) for c in chunks]
    assert _bits(assemble(chunks, [zero, one])) == _bits(expect)
    with pytest.raises(RuntimeError, match="chunk 1"):
        assemble(chunks, [zero])


def test_a_late_worker_is_relieved_and_the_sums_stay_bitwise(monkeypatch):
    """With threads, a worker held up in its second sample until the caller has done 14
    samples (its own chunks 0 and 2, then two of the worker's chunk 1, stolen from the back):
    the batch's results still equal one chunk at a time. Events, not timers, order the two."""
    job, chunks = _job(QIF), _chunks([6, 6, 6])
    expect = [run_chunk((job, c)) for c in chunks]
    inner, steals = batches._Prepared.sample, []
    caller = threading.get_ident()
    state = {"caller": 0, "worker": 0}
    changed = threading.Condition()

    def ordered(self, *sample):
        with changed:
            me = "caller" if threading.get_ident() == caller else "worker"
            state[me] += 1
            changed.notify_all()
            if me == "caller" and state["caller"] == 1:    # the worker has claimed chunk 1
                assert changed.wait_for(lambda: state["worker"] >= 1, timeout=60)
            if me == "worker" and state["worker"] == 2:
                assert changed.wait_for(lambda: state["caller"] >= 14, timeout=60)
        return inner(self, *sample)

    def counted(chunks, parties):
        steals.append(sum(len(stolen) for _, stolen in parties))
        return assemble(chunks, parties)

    monkeypatch.setattr(batches._Prepared, "sample", ordered)
    monkeypatch.setattr(batches, "assemble", counted)
    with executor("threads", 2) as run:
        got = run_chunks(run, job, chunks)
    assert _bits(got) == _bits(expect)
    assert steals[0] >= 2


@pytest.mark.parametrize("backend", ["loky", "threads"])
@pytest.mark.parametrize("want_grad", [True, False])
def test_run_chunks_equals_one_chunk_at_a_time(backend, want_grad):
    job, chunks = _job(QIF, want_grad), _chunks([4, 4, 4, 3], seed=1)
    expect = [run_chunk((job, c)) for c in chunks]
    with executor(backend, 2) as run:
        for _ in range(2):
            assert _bits(run_chunks(run, job, chunks)) == _bits(expect)


def test_a_split_goes_in_groups_of_chunks_and_stays_bitwise():
    """Evaluation hands ``run_chunks`` a whole split: it makes one balanced call per
    ``CHUNKS_PER_PARTY * n_jobs`` chunks (every party receives all samples of a call)."""
    from snnexact.training.parallel import Runner
    job, chunks = _job(LIF, want_grad=False), _chunks([2] * 11, seed=2)
    expect = [run_chunk((job, c)) for c in chunks]
    groups = []
    with executor("threads", 2) as run:
        def counted(fn, items):
            groups.append(len(items[0][1]))
            return run(fn, items)
        got = run_chunks(Runner(counted, run.n_jobs, run.claims), job, chunks)
    assert _bits(got) == _bits(expect)
    assert groups == [2 * batches.CHUNKS_PER_PARTY, 11 - 2 * batches.CHUNKS_PER_PARTY]
