"""Random callback sampling (回访调查, R3.7): per unit and period a reproducible, level-stratified random sample of
evaluations goes on a callback list for 12345 operators; each call is recorded, and a rating the evaluator denies
or was pressured into is flagged for the supervisor and counted per unit.

``rules`` is the pure part (allocation, the deterministic draw, the period, what counts as a mismatch);
``services`` draws, records calls, reveals the phone (logged) and counts mismatches; ``views`` are the operators'
list and the supervisors' page; ``tasks`` draws last month's samples from the worker. docs/surveys-and-sampling.md.
"""
