"""Training: the trainer, optimisers, checkpoints, validated configuration, parallel evaluation,
the hyperparameter search and the LIF-versus-QIF protocol."""
