"""Open data: the CSV and JSON files hold the same figures as insight.metrics; every column is in the data
dictionary (the page and docs/opendata.md); bad parameters are a Chinese 400."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.utils import timezone

from haochaping.disclosure import rules
from haochaping.insight import metrics
from haochaping.insight.metrics import PublicViewer, StatsFilter

pytestmark = pytest.mark.django_db
DOC = Path(__file__).resolve().parents[2] / "docs" / "opendata.md"


def filt(code=None, department=None):
    p = rules.last_twelve_months(timezone.localdate())
    return StatsFilter.from_codes(region_code=code, department=department, date_from=p.start, date_to=p.end)


def json_rows(client, dataset, **params):
    response = client.get(f"/public/opendata/{dataset}.json", params)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    return response.json()


def csv_rows(client, dataset, **params) -> list[dict]:
    response = client.get(f"/public/opendata/{dataset}.csv", params)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Disposition"].startswith("attachment;")
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


@pytest.mark.parametrize("by", ["total", "region", "department", "month"])
def test_figures_file_equals_metrics(client, world, by):
    code = world.org.city.code
    document = json_rows(client, "figures", region=code, by=by)
    stats = metrics.figures(PublicViewer(code), filt(code), group_by=None if by == "total" else by)
    expected = [stats.total.as_dict()] + [g.as_dict() for g in stats.groups]
    assert len(document["rows"]) == len(expected)
    for row, want in zip(document["rows"], expected, strict=True):
        for column in ("key", "name", "evaluations", "good", "bad", "good_rate", "bad_rate", "satisfaction",
                       "excluded", "system_default", "total", "completed", "rated", "participation_rate"):
            assert row[column] == want[column], column
        assert row["region_code"] == code
    csv_version = csv_rows(client, "figures", region=code, by=by)
    assert [r["evaluations"] for r in csv_version] == [str(r["evaluations"]) for r in document["rows"]]
    assert csv_version[0]["good_rate"] == rules.csv_value(document["rows"][0]["good_rate"])


def test_rankings_and_rectification_files_equal_metrics(client, world, settings):
    settings.HAOCHAPING_RANKING_MIN_SAMPLE = 3
    code = world.org.county.code
    rows = json_rows(client, "rankings", region=code, by="department")["rows"]
    ranking = metrics.rankings(PublicViewer(code), filt(code), by="department")
    assert [(r["key"], r["rank"], r["score"], r["ranked"]) for r in rows] == [
        (r.key, r.rank, r.score, True) for r in ranking.ranked]

    rows = json_rows(client, "rectification", region=code, by="department")["rows"]
    total, = metrics.case_figures(PublicViewer(code), filt(code))
    by_department = metrics.case_figures(PublicViewer(code), filt(code), by="department")
    assert rows[0]["group_by"] == "total" and rows[0]["cases"] == total.cases == 6
    assert rows[1]["key"] == world.org.department.credit_code
    for name in ("cases", "handled", "rectify_rate", "on_time", "on_time_rate", "real_name_rate", "upheld",
                 "upheld_rate", "overdue_now"):
        assert rows[0][name] == getattr(total, name)
        assert rows[1][name] == getattr(by_department[0], name)


def test_cases_file_is_anonymous_and_agrees_with_the_case_figures(client, world):
    code = world.org.county.code
    document = json_rows(client, "cases", region=code)
    rows = document["rows"]
    total, = metrics.case_figures(PublicViewer(code), filt(code))
    assert len(rows) == total.cases
    assert sum(1 for r in rows if r["on_time"]) == total.on_time
    assert sum(1 for r in rows if r["handled_on"]) == total.handled
    assert set(rows[0]) == {c for c, _n, _d in rules.CASE_COLUMNS}
    by_kind = {r["case_no"]: r for r in rows}
    upheld = by_kind[f"{world.cases['appealed']:06d}"]
    assert (upheld["outcome"], upheld["handled_on"], upheld["on_time"]) == ("appeal_upheld", None, None)
    focus = by_kind[f"{world.cases['focus']:06d}"]
    assert (focus["kind_text"], focus["labels"], focus["level"]) == ("集中问题", "", None)
    assert len(csv_rows(client, "cases", region=code)) == total.cases


def test_every_column_is_in_the_dictionary_page_and_the_document(client, world):
    text = client.get("/public/opendata/").content.decode()
    doc = DOC.read_text()
    for dataset, (title, columns) in rules.DATASETS.items():
        header = next(csv.reader(io.StringIO(
            client.get(f"/public/opendata/{dataset}.csv").content.decode("utf-8")[1:])))
        assert header == [c for c, _n, _d in columns]
        assert f"`{dataset}`" in doc and title in text
        for column, name, _description in columns:
            assert f"<code>{column}</code>" in text
            assert f"`{column}`" in doc, f"docs/opendata.md does not name {dataset}.{column}"
            assert name in doc, f"docs/opendata.md does not name {name}"


@pytest.mark.parametrize("params, field", [
    ({"region": "abc"}, "region"), ({"region": "999999"}, "region"), ({"period": "2024-13"}, "period"),
    ({"by": "staff"}, "by"), ({"by": "<script>"}, "by"), ({"department": "NOPE"}, "department"),
])
def test_bad_parameters_are_a_chinese_400(client, world, params, field):
    response = client.get("/public/opendata/figures.csv", params)
    assert response.status_code == 400
    text = response.content.decode()
    assert f"参数 {field}" in text and "<script>" not in text


def test_a_region_without_data_has_empty_rates_not_zero(client, world):
    rows = csv_rows(client, "figures", region=world.org.other_county.code)
    assert rows[0]["evaluations"] == "0" and rows[0]["good_rate"] == "" and rows[0]["satisfaction"] == ""
