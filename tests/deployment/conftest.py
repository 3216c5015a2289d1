"""Transactional tests flush every table afterwards: the national label dictionary a migration seeds is put back
before each test, as tests/evaluation/conftest.py does."""

from tests.evaluation.conftest import national_labels  # noqa: F401 - an autouse fixture, shared
