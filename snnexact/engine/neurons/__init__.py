"""Neuron models. Each is a parameter class (``model.NeuronModel``), one module of verbs and one
of their adjoints, registered here for its kernel-parameter type (``interface.register``).
``MODELS`` maps each model's name to its parameter class: the configuration, the trainer and
the comparisons are driven by it. docs/models.md shows how to add a model."""
from snnexact.engine.neurons import (composed, interface, lif, lif_adjoint, lif_general,
                                     lif_general_adjoint, qif, qif_adjoint)
from snnexact.engine.neurons.lif import LIF
from snnexact.engine.neurons.model import NeuronModel
from snnexact.engine.neurons.qif import QIF

interface.register(lif.LIFKernel, lif, lif_adjoint)
interface.register(qif.QIFKernel, qif, qif_adjoint, composed)
interface.register(lif_general.LIFGeneralKernel, lif_general, lif_general_adjoint,
                   composed)

MODELS = {"lif": LIF, "qif": QIF}


def neuron_from_config(cfg):
    """The neuron of a training configuration: ``MODELS[cfg.model].from_config(cfg)``."""
    try:
        cls = MODELS[cfg.model]
    except KeyError:
        raise ValueError(f"model must be one of {sorted(MODELS)}, got {cfg.model!r}") from None
    return cls.from_config(cfg)


__all__ = ["LIF", "QIF", "MODELS", "NeuronModel", "interface", "neuron_from_config"]
