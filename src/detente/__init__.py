"""detente: turn a foreign-policy argument into a model to run, question and stress-test.

The flow runs one way: scenario files -> :mod:`detente.scenario` -> engines
(:mod:`detente.bargaining`, :mod:`detente.sim`) -> :mod:`detente.experiments` ->
:mod:`detente.store` -> :mod:`detente.report` and the CLI.
"""

__version__ = "0.1.0"
