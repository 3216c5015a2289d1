from tests.evaluation.conftest import national_labels  # noqa: F401  (bad evaluations need the label dictionary)
