"""User interfaces: the command line, its commands, plots and figures, and the demo."""
