"""Measured detection (issue 19 item 6): every pattern planted at three strengths into the demo province, the
detectors run as the worker runs them, recall per pattern and the false-positive rate on untouched units held to
the targets (≥ 95 % of plants flagged, ≤ 1 % of untouched units flagged). bench/fraud.py reports the same figures
on a larger province."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from django.db import transaction
from django.utils import timezone

from haochaping.demo import fraud as planting
from haochaping.demo import generator
from haochaping.supervision.fraud.rules import Pattern
from tests.demo.building import _forget_caches

RECORDS = 30000


@contextmanager
def _province(django_db_blocker):
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            _forget_caches()
            today = timezone.localdate()
            generator.build(RECORDS, today=today)
            plants = planting.plant_all(today)
            yield planting.measure(plants, today=today)
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            _forget_caches()


@pytest.fixture(scope="module")
def province(django_db_setup, django_db_blocker):
    with _province(django_db_blocker) as m:
        print("\n".join(planting.report(m)))
        yield m


@pytest.fixture
def measured(province, db):
    return province


def test_every_pattern_is_planted_at_every_strength(measured):
    planted = {(p.pattern, p.strength) for p in measured.plants}
    assert planted == {(pattern, s) for pattern, strengths in planting.STRENGTHS.items() for s in strengths}
    assert len({p.unit for p in measured.plants}) == len(measured.plants)  # a unit of its own each


def test_at_least_95_percent_of_plants_are_flagged(measured):
    assert measured.total_recall >= 0.95, planting.report(measured)


@pytest.mark.parametrize("pattern", list(planting.STRENGTHS))
def test_each_pattern_is_found_at_its_stronger_strengths(measured, pattern):
    strongest = planting.STRENGTHS[pattern][1:]
    assert all(measured.by_strength[(pattern, s)] for s in strongest), planting.report(measured)


def test_at_most_one_percent_of_untouched_units_are_flagged(measured):
    assert measured.untouched >= 50  # a province, not a handful of units
    assert measured.false_positive_rate <= 0.01, measured.untouched_flagged


def test_nothing_is_excluded_by_detection_alone(measured):
    from haochaping.evaluation.models import EvaluationExclusion

    assert not EvaluationExclusion.objects.filter(reason="fraud").exists()
    assert Pattern.RETALIATION in {p.pattern for p in measured.plants}
