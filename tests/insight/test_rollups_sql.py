"""The rebuild recounts in SQL (rollups.recount): on a varied history — several months, exclusions, follow-ups,
real names, system defaults, 差评 labels, questionnaires with blank and non-blank suggestions, 办件 without
evaluations — it must find exactly the rows the write path wrote, on SQLite and on PostgreSQL."""

from __future__ import annotations

import sys
from datetime import timedelta

import pytest
from django.db.models import F

from haochaping.evaluation.models import Evaluation
from haochaping.insight import rollups
from haochaping.insight.models import (
    DailyCounter,
    DailyParticipation,
    QuestionnaireCounter,
    RegionDayCounter,
    RegionDayMix,
    Suggestion,
    UnitDayCounter,
)
from haochaping.insight.rollups import recount
from tests import factories

from .helpers import completed_record, exclude, import_default, rate
from .test_rollups_months import month_back

pytestmark = pytest.mark.django_db

COUNTERS = {
    DailyCounter: ("count",),
    DailyParticipation: ("completed", "rated"),
    RegionDayCounter: ("level1", "level5", "excluded", "system_default", "completed", "rated"),
    UnitDayCounter: ("level1", "level5", "excluded", "system_default", "completed", "rated"),
    RegionDayMix: ("count",),
    QuestionnaireCounter: ("answered", "suggestions"),
}


def snapshot() -> dict:
    """Every counter table's non-zero rows (all columns but the id), and the suggestions."""
    out = {}
    for model in COUNTERS:
        names = [f.name for f in model._meta.concrete_fields if f.name != "id"]
        values = [f.name for f in model._meta.concrete_fields if f.get_internal_type() == "IntegerField"]
        rows = model.objects.values_list(*names)
        out[model.__name__] = sorted((r for r in rows if any(r[names.index(v)] for v in values)), key=str)
    out["Suggestion"] = sorted(Suggestion.objects.values_list(
        "evaluation_id", "created_at", "day", "region", "department", "agency", "item", "platform", "text"))
    return out


@pytest.fixture
def history(org, item, national_labels):
    """Three months of evaluations written through the services (so the write path counted them)."""
    evaluations = []
    suggestions = ["x", "  ", "\u3000\u00a0\n", " 材料太多，建议精简 ", "", "\u2003好\u2003"]
    for n in (2, 1, 0):
        at = month_back(n)
        for i, level in enumerate((5, 4, 3, 2, 1, 1, 5)):
            when = at + timedelta(hours=i)
            kw = {"staff": None, "window": None} if i == 3 else {}
            record = completed_record(org, item, completed_at=when, **kw)
            questionnaire = {"guide_clear": i % 2 == 0, "process_convenient": i % 3 == 0}
            if i < len(suggestions):
                questionnaire["suggestions"] = suggestions[i]
            if i == 4:
                questionnaire = {"suggestions": ""}  # nothing answered
            if i == 6:
                questionnaire = {"suggestions": "只有意见"}
            ev = rate(record, level, channel=("pc", "kiosk", "qr")[i % 3], phone="13912345678" if i % 2 else "",
                      now=when + timedelta(minutes=5), questionnaire=questionnaire)
            evaluations.append(ev)
            if i == 1:  # a follow-up of the same 办件, through another channel
                evaluations.append(rate(record, 2, channel="qr", type_="followup", now=when + timedelta(minutes=30)))
        import_default(completed_record(org, item, completed_at=at), now=at + timedelta(minutes=1))
        import_default(completed_record(org, item, completed_at=at), level=1, now=at + timedelta(minutes=2))
        completed_record(org, item, completed_at=at + timedelta(hours=9))  # completed, never rated
        factories.make_record(org, item, completed=False)  # not completed: counts nowhere
    for ev in [ev for ev in evaluations if ev.level <= 2][::2]:  # every other 差评 (an appeal upheld)
        exclude(ev)
    exclude(evaluations[0])  # a 好评 with a suggestion leaves the summary too
    return evaluations


def test_the_whitespace_class_is_exactly_pythons_isspace():
    assert recount.WHITESPACE == "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())


def test_the_sql_recount_finds_exactly_what_the_write_path_wrote(history):
    live = snapshot()
    assert all(live.values()), {k: len(v) for k, v in live.items()}
    assert {t for (*_k, t) in live["Suggestion"]} == {"材料太多，建议精简", "x", "\u2003好\u2003".strip(), "只有意见"}
    check = rollups.rebuild(apply=False)
    assert check.agrees
    assert check.evaluations == Evaluation.objects.count()
    assert check.counters == len(live["DailyCounter"])
    assert check.participation_rows == len(live["DailyParticipation"]) and check.completed == 3 * 10
    assert rollups.stored() == rollups.expected()  # and the Python recount says the same

    report = rollups.rebuild()
    assert report.agrees and report.applied and report.evaluations == check.evaluations
    assert snapshot() == live  # byte for byte: the SQL rebuild writes what the write path wrote


def test_drift_in_every_table_is_reported_and_repaired(history):
    live = snapshot()
    DailyCounter.objects.filter(excluded=False).update(count=F("count") + 2)
    DailyParticipation.objects.filter(channel="").update(completed=F("completed") + 1)
    UnitDayCounter.objects.update(level5=F("level5") + 1)
    RegionDayMix.objects.filter(kind="label").delete()
    QuestionnaireCounter.objects.update(answered=F("answered") + 1, suggestions=F("suggestions") + 1)
    Suggestion.objects.filter(pk=Suggestion.objects.order_by("pk").first().pk).delete()
    stale_day = month_back(1).date() - timedelta(days=3)  # a stray counter on a day without data
    RegionDayCounter.objects.create(day=stale_day, region="x", department=1, level3=4)

    check = rollups.rebuild(apply=False)
    counted = DailyCounter.objects.filter(excluded=False).count()
    assert check.differing == counted and check.missing == 0 and check.surplus == 2 * counted
    assert check.participation_differing == DailyParticipation.objects.filter(channel="").count()
    labels = len([r for r in live["RegionDayMix"] if r[3] == "label"])
    assert check.wide_differing == UnitDayCounter.objects.count() + labels + 1
    assert check.questionnaire_differing == 2 * QuestionnaireCounter.objects.count() + 1

    report = rollups.rebuild()
    assert (report.differing, report.wide_differing, report.questionnaire_differing) == (
        check.differing, check.wide_differing, check.questionnaire_differing)
    assert snapshot() == live
    assert rollups.rebuild(apply=False).agrees


def test_a_bounded_rebuild_leaves_the_other_days_alone(history):
    live = snapshot()
    day = month_back(1).date()
    DailyCounter.objects.update(count=7)
    report = rollups.rebuild(day, day)
    assert report.evaluations == 10 and report.differing > 0  # 8 rated, 2 system defaults
    assert set(DailyCounter.objects.exclude(day=day).values_list("count", flat=True)) == {7}
    rollups.rebuild()
    assert snapshot() == live


def test_wide_drift_alone_is_found_against_the_stored_fine_counters(history):
    """With the fine and 参评率 counters right, a comparison reads the wide counters' truth from them."""
    live = snapshot()
    RegionDayCounter.objects.update(rated=F("rated") + 1)
    check = rollups.rebuild(apply=False)
    assert (check.differing, check.participation_differing) == (0, 0)
    assert check.wide_differing == RegionDayCounter.objects.count()
    assert rollups.rebuild().wide_differing == check.wide_differing
    assert snapshot() == live
