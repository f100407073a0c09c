"""``NeuronModel``: what every neuron model's user-facing parameter class provides to the
network, the trainer and the configuration (docs/models.md)."""
import numpy as np


class NeuronModel:
    """Base of the frozen parameter dataclasses of neuron models.

    Subclasses set ``name`` (the registry key), ``has_pseudospikes`` (smooth continuation of
    silent neurons after ``T``, docs/theory.md section 4), and provide ``kernel`` (the
    parameters the compiled verbs take, a model-specific ``namedtuple``), ``kick`` (the single
    synaptic kick that fires a neuron from rest: the natural unit of weights), ``v0_range``
    (allowed trained initial voltages ``[lo, hi)``) and ``from_config(cfg)``.
    """

    name = None
    has_pseudospikes = False

    @property
    def tau(self):
        """The time constant that sets the scale of the dynamics (``tau_m``)."""
        return float(self.tau_m)

    def check_initial_voltage(self, V0, where):
        """Raise ``ValueError`` naming ``where`` unless the array ``V0`` holds legal initial
        voltages for a simulation (each model says which)."""
        raise NotImplementedError
