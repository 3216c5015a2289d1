"""Batch intake writes evaluations: the national label dictionary is put back before each live-server test."""

from tests.evaluation.conftest import national_labels  # noqa: F401 - an autouse fixture, shared
