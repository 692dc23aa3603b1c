"""Designing robust strategies: many-objective search over a strategy's free parameters.

``detente design`` (:func:`detente.design.job.design`) searches the levers a scenario (or the
command line) declares (:mod:`detente.design.levers`) with pymoo's NSGA-II
(:mod:`detente.design.search`), scoring every candidate on the same sampled states with a
robustness measure (:mod:`detente.design.robust`); candidates are evaluated in stacked engine
runs through the experiments' evaluators (:mod:`detente.design.evaluate`) and every
generation is stored as it finishes (:mod:`detente.store.design`).
"""
