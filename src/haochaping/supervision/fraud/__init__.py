"""Detectors of manufactured and coerced reviews (刷好评、代评、打击报复; R8.2, R7.1, §四(三)(四)).

``rules`` holds every detector as a pure function with its threshold; ``services`` loads the rows, runs them,
files findings for supervisors and carries out a supervisor's decision; ``views`` is the supervisors' queue.
docs/fraud-detection.md states each rule, statistic and threshold.
"""
