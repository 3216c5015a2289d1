"""Demo data: one Shandong subtree with a year of 办件 and evaluations (``haochaping demo``)."""
