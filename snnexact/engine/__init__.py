"""The exact engine: neuron models, event handling, forward simulation, the adjoint (backward)
pass, losses and readouts, pseudodynamics, and the network and parameter containers."""
