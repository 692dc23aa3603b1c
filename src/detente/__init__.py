"""detente: turn a foreign-policy argument into a model that can be run, questioned and stress-tested.

The flow runs one way: scenario files -> :mod:`detente.scenario` -> engines
(:mod:`detente.bargaining`, :mod:`detente.sim`) -> :mod:`detente.experiments` ->
:mod:`detente.store` -> :mod:`detente.report` and the CLI.
"""

__version__ = "0.1.0"
