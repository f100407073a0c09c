"""snnexact: exact event-driven simulation and exact gradients of LIF and QIF spiking networks."""
from snnexact.checks import UndefinedResultError
from snnexact.engine.gradients import Evaluation, LossConfig, evaluate, loss, value_and_grad
from snnexact.engine.network import Network, Params
from snnexact.engine.neurons import LIF, QIF, MODELS
from snnexact.engine.simulate import (EventLog, LayerResult, SimulationResult, SpikeBudgetWarning,
                               simulate)

__all__ = ["LIF", "QIF", "MODELS", "Network", "Params", "simulate", "SimulationResult",
           "LayerResult", "EventLog", "SpikeBudgetWarning", "loss", "value_and_grad",
           "evaluate", "Evaluation", "LossConfig", "UndefinedResultError"]
__version__ = "0.1.0"
