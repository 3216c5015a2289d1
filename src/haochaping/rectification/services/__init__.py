"""The use cases of rectification: the only code here that changes state (one transaction each, audited).

``cases`` is the case contract (open, call back, outcome, answer, close, complaints; it re-exports ``common`` and
``supervision``); ``appeals`` the 申诉 use cases; ``focus`` the 集中问题; ``deadlines`` the reminders and
escalations the worker runs.
"""
