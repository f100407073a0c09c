"""The spike-change classifier on constructed spike patterns, one case per kind of change."""
import numpy as np
import pytest

from snnexact.analysis.spike_changes import classify, match_spikes

T = 1.0


def pattern(*layers):
    """``pattern([(t, neuron), ...], ...)``: one list of spikes per layer, in time order."""
    out = []
    for spikes in layers:
        spikes = sorted(spikes)
        out.append((np.array([t for t, _ in spikes], float), np.array([n for _, n in spikes], int)))
    return tuple(out)


BASE = [(0.2, 0), (0.5, 1), (0.7, 0)]


def test_identical_patterns_have_no_change():
    ch = classify(pattern(BASE, [(0.6, 0)]), pattern(BASE, [(0.6, 0)]), T)
    assert not ch and ch.events == () and ch.swaps == ()


@pytest.mark.parametrize("kind, t, at_T", [("appear", 0.4, False), ("appear", T - 1e-9, True),
                                           ("disappear", 0.4, False),
                                           ("disappear", T - 1e-9, True)])
def test_appear_and_disappear_inside_the_trial_and_at_T(kind, t, at_T):
    more = pattern(BASE, [(0.3, 1), (t, 1)])
    fewer = pattern(BASE, [(0.3, 1)])
    left, right = (fewer, more) if kind == "appear" else (more, fewer)
    ch = classify(left, right, T)
    assert len(ch.events) == 1 and ch.swaps == ()
    e = ch.events[0]
    assert (e.kind, e.layer, e.neuron, e.time, e.at_T) == (kind, 1, 1, t, at_T)


def test_the_unmatched_spike_is_the_one_that_keeps_the_trains_closest():
    ml, mr = match_spikes(np.array([0.1, 0.5, 0.9]), np.array([0.1, 0.88]))
    assert ml.tolist() == [0, 2] and mr.tolist() == [0, 1]
    ml, mr = match_spikes(np.array([0.3]), np.array([0.1, 0.31, 0.6, 0.9]))
    assert ml.tolist() == [0] and mr.tolist() == [1]


def test_swap_within_a_layer():
    left = pattern([(0.3, 0), (0.4, 1)])
    right = pattern([(0.45, 0), (0.4, 1)])
    ch = classify(left, right, T)
    assert ch.events == () and len(ch.swaps) == 1
    s = ch.swaps[0]
    assert (s.first, s.second, s.relation) == ((0, 0, 0), (0, 1, 0), "same layer")
    assert s.times_left == (0.3, 0.4) and s.times_right == (0.45, 0.4)


def test_swap_between_a_presynaptic_and_a_postsynaptic_spike():
    left = pattern([(0.3, 2)], [(0.35, 0)])
    right = pattern([(0.37, 2)], [(0.36, 0)])
    (s,) = classify(left, right, T).swaps
    assert (s.first, s.second, s.relation) == ((0, 2, 0), (1, 0, 0), "pre-post")


def test_swap_with_an_input_spike():
    inputs = (np.array([0.1, 0.5]), np.array([3, 2]))
    left, right = pattern([(0.45, 1)]), pattern([(0.55, 1)])
    ch = classify(left, right, T, inputs=inputs)
    assert len(ch.swaps) == 1
    s = ch.swaps[0]
    assert (s.first, s.second, s.relation) == ((0, 1, 0), (-1, 2, 1), "pre-post")
    assert classify(left, right, T).swaps == ()  # without the inputs no swap is seen


def test_spikes_two_layers_apart_and_equal_times_are_not_swaps_of_the_same_kind():
    left = pattern([(0.3, 0)], [], [(0.4, 0)])
    right = pattern([(0.5, 0)], [], [(0.4, 0)])
    (s,) = classify(left, right, T).swaps
    assert s.relation == "other"
    # a tie on one side is not a strict reversal
    assert classify(pattern([(0.3, 0), (0.4, 1)]), pattern([(0.4, 0), (0.4, 1)]), T).swaps == ()


def test_a_discontinuous_spike_time_is_a_move_only_with_move_tol():
    left, right = pattern([(0.3, 0)]), pattern([(0.6, 0)])
    assert classify(left, right, T).events == ()
    (e,) = classify(left, right, T, move_tol=1e-6).events
    assert (e.kind, e.time, e.time_right, e.at_T) == ("move", 0.3, 0.6, False)


def test_windowed_reversal_search_matches_all_pairs(rng):
    from snnexact.analysis.spike_changes import reversed_pairs
    for n, move in ((0, 0.1), (1, 0.1), (40, 0.0), (60, 1e-3), (200, 0.05)):
        tl = np.round(rng.uniform(0, 1, n), 2)  # rounding makes ties
        tr = tl + rng.normal(0, move, n)
        brute = {(i, j) for i in range(n) for j in range(i + 1, n)
                 if (tl[i] - tl[j]) * (tr[i] - tr[j]) < 0}
        got = {tuple(sorted(p)) for p in reversed_pairs(tl, tr)}
        assert got == brute
    assert brute, "no reversal in the last case: the comparison is vacuous"


def test_swap_count_matches_the_listed_swaps(rng):
    """The inversion count equals the number of swaps ``classify`` lists (spikes of one neuron
    are matched in order on both sides, so the pairs are the same)."""
    from snnexact.analysis.spike_changes import count_swaps
    counts = []
    for n in (0, 3, 30, 120):
        units = rng.integers(0, 7, n)
        tl = np.round(rng.uniform(0, 1, n), 2)  # ties on the left
        tr = tl + rng.normal(0, 0.1, n)
        ol, orr = np.argsort(tl, kind="stable"), np.argsort(tr, kind="stable")
        left, right = ((tl[ol], units[ol]),), ((tr[orr], units[orr]),)
        counts.append(count_swaps(left, right, T))
        assert counts[-1] == len(classify(left, right, T).swaps)
    assert counts[-1] > 0, "no swap: the comparison is vacuous"
