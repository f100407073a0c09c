"""snnexact: exact event-driven simulation and exact gradients of LIF and QIF spiking networks."""
from snnexact._checks import UndefinedResultError
from snnexact.gradients import Evaluation, LossConfig, evaluate, loss, value_and_grad
from snnexact.network import Network, Params
from snnexact.neurons import LIF, QIF, MODELS
from snnexact.simulate import (EventLog, LayerResult, SimulationResult, SpikeBudgetWarning,
                               simulate)

__all__ = ["LIF", "QIF", "MODELS", "Network", "Params", "simulate", "SimulationResult",
           "LayerResult", "EventLog", "SpikeBudgetWarning", "loss", "value_and_grad",
           "evaluate", "Evaluation", "LossConfig", "UndefinedResultError"]
__version__ = "0.1.0"
