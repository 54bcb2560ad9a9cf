"""Gateway convergence: the activation version each consumer processed (docs/activation.md)."""
