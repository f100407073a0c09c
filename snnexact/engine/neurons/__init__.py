"""Neuron models, one module each with the same verbs (``flow``, ``next_spike_time``, ``jump``,
``reset``) and the same layer-kernel functions; ``MODELS`` maps names to modules."""
from snnexact.engine.neurons import lif, qif
from snnexact.engine.neurons.lif import LIF
from snnexact.engine.neurons.qif import QIF

MODELS = {"lif": lif, "qif": qif}

__all__ = ["LIF", "QIF", "MODELS", "lif", "qif"]
