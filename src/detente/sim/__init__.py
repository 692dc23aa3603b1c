"""Dynamic two-level game, vectorised across Monte Carlo worlds."""
