"""`haochaping import`: history in the three shapes from CSV, XLSX and JSONL, with original times, system-default
evaluations kept apart, refused rows reported, idempotent, resumable after a kill, and counted exactly as if the
rows had arrived live (issue 16 item 3, R6.5, R8.4)."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import Workbook

from haochaping.core import crypto
from haochaping.evaluation.models import Evaluation
from haochaping.evaluation.services import canonical_bytes
from haochaping.exchange import importer
from haochaping.exchange.rules import BEIJING
from haochaping.insight import rollups
from haochaping.records.models import ServiceRecord
from haochaping.rectification.models import RectificationCase
from tests import clock

COMPLETED = datetime(2025, 6, 3, 10, 0, tzinfo=BEIJING)  # a Tuesday, long before any date the suite runs on


def national_record(org, item, n: int, **kw) -> dict:
    return {"projectNo": f"HIS-{n:05d}", "taskCode": item.implementation_code, "areaCode": org.county.code + "000000",
            "deptCode": org.department.credit_code, "windowCode": org.window.code, "agencyCode": org.agency.code,
            "userProp": "1", "promiseDay": "3", "proStatus": "3",
            "acceptDate": (COMPLETED - timedelta(hours=2)).strftime("%Y-%m-%d %H:%M:%S"),
            "finishDate": COMPLETED.strftime("%Y-%m-%d %H:%M:%S"), **kw}


def national_evaluation(n: int, *, when: datetime = COMPLETED + timedelta(minutes=5), **kw) -> dict:
    return {"projectNo": f"HIS-{n:05d}", "pf": "4", "satisfaction": "5", "serviceNumber": "2", "evaluateType": "1",
            "evalDetail": "", "writingEvaluation": "", "assessTime": when.strftime("%Y-%m-%d %H:%M:%S"),
            "assessNumber": "1", **kw}


def write_csv(path: Path, rows: list[dict]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def run_import(path: Path, **kw) -> str:
    out = io.StringIO()
    call_command("import", str(path), stdout=out, stderr=io.StringIO(), **kw)
    return out.getvalue()


@pytest.fixture
def history(tmp_path, org, item):
    """Three 办件 of June 2025 and their evaluations: good, bad, a default one, and refused ones."""
    records = write_csv(tmp_path / "records.csv", [national_record(org, item, n) for n in range(1, 4)]
                        + [national_record(org, item, 9, areaCode="37")])
    run_import(records, kind="records", shape="national")
    rows = [
        national_evaluation(1),
        national_evaluation(2, satisfaction="1", evalDetail="110", writingEvaluation="超期未办结"),
        national_evaluation(3, pf="7"),  # a system default evaluation under this province's profile
        national_evaluation(1, assessNumber="2", satisfaction="9"),  # refused: level out of range
        national_evaluation(404),  # refused: no such 办件
        # Refused: five working days after a completion on Tuesday 3 June 2025 ended on Tuesday 10 June.
        national_evaluation(1, when=datetime(2025, 6, 11, 9, 0, tzinfo=BEIJING), assessNumber="3",
                            evaluateType="2"),
    ]
    return write_csv(tmp_path / "evaluations.csv", rows)


def test_history_keeps_its_times_and_keeps_defaults_apart(db, history):
    assert ServiceRecord.objects.count() == 3
    assert (history.parent / "records.csv.refused.csv").read_text(encoding="utf-8-sig").splitlines()[1:] == [
        "4,areaCode,行政区划代码应为6、9或12位数字"]
    out = run_import(history, kind="evaluations", shape="national-pf7-default", name="旧系统")
    assert "新增 3 行" in out and "拒绝 3 行" in out
    evs = {e.record.project_no: e for e in Evaluation.objects.select_related("record")}
    assert set(evs) == {"HIS-00001", "HIS-00002", "HIS-00003"}
    assert evs["HIS-00001"].created_at == COMPLETED + timedelta(minutes=5)
    assert evs["HIS-00001"].source == "import:旧系统" and evs["HIS-00001"].is_supplementary is False
    assert evs["HIS-00003"].channel == "system_default"
    # Kept apart: a default evaluation never counts as satisfaction (R8.4), and history opens no case today.
    assert set(Evaluation.objects.countable().values_list("record__project_no", flat=True)) == {"HIS-00001",
                                                                                                 "HIS-00002"}
    assert evs["HIS-00002"].is_bad and not RectificationCase.objects.exists()
    refused = list(csv.reader(io.StringIO((history.parent / "evaluations.csv.refused.csv").read_text("utf-8-sig"))))
    assert refused[0] == ["行号", "字段", "原因"]
    # Fields are named in the file's own words: the national shape's projectNo and serviceNumber.
    assert [(r[0], r[1]) for r in refused[1:]] == [("4", "satisfaction"), ("5", "projectNo"), ("6", "serviceNumber")]
    assert "2025年6月10日" in refused[3][2]
    assert all("超期" not in r[2] for r in refused)  # reasons, never the row's values


def test_a_rerun_adds_nothing(db, history):
    run_import(history, kind="evaluations", shape="national-pf7-default")
    (history.parent / "evaluations.csv.progress.json").unlink()  # as if imported afresh from the first row
    out = run_import(history, kind="evaluations", shape="national-pf7-default")
    assert "新增 0 行" in out and "已存在 3 行" in out and Evaluation.objects.count() == 3


def test_imported_rows_count_exactly_as_live_ones(db, history):
    run_import(history, kind="evaluations", shape="national-pf7-default")
    report = rollups.rebuild(None, None, apply=False, actor="test")
    assert report.agrees and report.evaluations == 3
    for ev in Evaluation.objects.prefetch_related("labels"):
        assert crypto.sm3_hex(canonical_bytes(ev, [label.code for label in ev.labels.all()])) == ev.leaf_hash


def test_internal_shape_from_jsonl_and_gbt_from_xlsx(db, tmp_path, org, item):
    run_import(write_csv(tmp_path / "r.csv", [national_record(org, item, n) for n in (1, 2)]), kind="records",
               shape="national")
    jsonl = tmp_path / "e.jsonl"
    jsonl.write_text("\n".join([
        json.dumps({"idempotency_key": "former-system-000001", "project_no": "HIS-00001", "stage": "complete", "channel": "qr",
                    "level": 4, "evaluated_at": (COMPLETED + timedelta(days=1)).isoformat()}),
        json.dumps({"idempotency_key": "former-system-000002", "project_no": "HIS-00001", "stage": "complete", "channel": "qr",
                    "level": 4}),  # refused: no original time
        "{not json",
    ]), encoding="utf-8")
    assert "新增 1 行" in run_import(jsonl, kind="evaluations")
    ev = Evaluation.objects.get()
    assert ev.created_at == COMPLETED + timedelta(days=1) and ev.is_supplementary is True
    assert [r.split(",")[:2] for r in (tmp_path / "e.jsonl.refused.csv").read_text("utf-8-sig").splitlines()[1:]] == [
        ["2", "evaluated_at"], ["3", "row"]]

    book = Workbook()
    sheet = book.active
    sheet.append(["办件编号", "评价渠道", "评价人", "评价时间", "评价次数", "满意度代码", "文字评价", "行政区划"])
    sheet.append(["HIS-00002", 1, "", "20250603T110000", 1, 5, "很不满意", org.county.code])
    book.save(tmp_path / "gbt.xlsx")
    assert "新增 1 行" in run_import(tmp_path / "gbt.xlsx", kind="evaluations", shape="gbt39046")
    assert Evaluation.objects.get(record__project_no="HIS-00002").level == 1  # 满意度代码 5 = 非常不满意


def test_an_unreadable_file_is_refused_whole(db, tmp_path):
    (tmp_path / "x.txt").write_text("a,b\n", encoding="utf-8")
    with pytest.raises(CommandError, match="csv"):
        run_import(tmp_path / "x.txt", kind="records")
    with pytest.raises(CommandError, match="不存在"):
        run_import(tmp_path / "missing.csv", kind="records")


# -- a real process, killed halfway and resumed -------------------------------------------------------------------

HAOCHAPING = str(Path(sys.executable).with_name("haochaping"))
SEED = """
import json, sys, django
django.setup()
from tests import factories
org = factories.make_org(); item = factories.make_item(org)
print(json.dumps({"county": org.county.code, "credit": org.department.credit_code, "window": org.window.code,
                  "agency": org.agency.code, "item": item.implementation_code}))
"""


def cli_env(var_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SQLITE_TEST_NAME")}
    root = str(Path(__file__).resolve().parents[2])
    env.update(HAOCHAPING_VAR_DIR=str(var_dir), PYTHONPATH=os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")])))
    return clock.subprocess_env(env)


def test_an_import_killed_halfway_resumes_without_loss_or_duplicates(tmp_path):
    env = cli_env(tmp_path)
    subprocess.run([HAOCHAPING, "migrate", "-v0"], env=env, check=True, timeout=300)
    seed = json.loads(subprocess.run([sys.executable, "-c", SEED], env={**env, "DJANGO_SETTINGS_MODULE":
                                     "haochaping.settings"}, check=True, capture_output=True, text=True,
                                     timeout=120).stdout.strip().splitlines()[-1])
    n = 1200
    org_like = type("O", (), {"county": type("C", (), {"code": seed["county"]}),
                              "department": type("D", (), {"credit_code": seed["credit"]}),
                              "window": type("W", (), {"code": seed["window"]}),
                              "agency": type("A", (), {"code": seed["agency"]})})
    item_like = type("I", (), {"implementation_code": seed["item"]})
    records = write_csv(tmp_path / "records.csv", [national_record(org_like, item_like, i) for i in range(n)])
    rows = [national_evaluation(i, satisfaction=str(1 + i % 5), evalDetail="110" if i % 5 == 0 else "",
                                writingEvaluation="超期" if i % 5 == 1 else "") for i in range(n)]
    rows[7]["satisfaction"] = "0"  # one refused row
    evaluations = write_csv(tmp_path / "evaluations.csv", rows)
    done = subprocess.run([HAOCHAPING, "import", str(records), "--kind", "records", "--shape", "national"], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0 and f"新增 {n} 行" in done.stdout, done.stderr

    progress = tmp_path / "evaluations.csv.progress.json"
    first = subprocess.Popen([HAOCHAPING, "import", str(evaluations), "--kind", "evaluations", "--shape", "national"],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and first.poll() is None:
        if progress.exists() and json.loads(progress.read_text())["done"] >= 400:
            break
        time.sleep(0.05)
    assert first.poll() is None, "the import finished before it could be killed"
    first.send_signal(signal.SIGKILL)
    first.wait()
    killed_at = json.loads(progress.read_text())["done"]
    assert 400 <= killed_at < n

    again = subprocess.run([HAOCHAPING, "import", str(evaluations), "--kind", "evaluations", "--shape", "national"],
                           env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert f"此前已完成 {killed_at} 行" in again.stdout
    count = subprocess.run([HAOCHAPING, "shell", "-c", "from haochaping.evaluation.models import Evaluation as E;"
                            "print(E.objects.count(), E.objects.values('record_id').distinct().count())"],
                           env=env, capture_output=True, text=True, timeout=120)
    assert count.stdout.split()[-2:] == [str(n - 1), str(n - 1)], count.stderr
    refused = (tmp_path / "evaluations.csv.refused.csv").read_text("utf-8-sig").splitlines()[1:]
    assert [r.split(",")[:2] for r in refused] == [["8", "satisfaction"]]
    check = subprocess.run([HAOCHAPING, "rebuild_rollups", "--check"], env=env, capture_output=True, text=True,
                           timeout=300)
    assert check.returncode == 0, check.stdout + check.stderr


def test_chunks_checkpoint_and_a_resumed_run_keeps_each_refusal_once(db, tmp_path, org, item):
    rows = [national_record(org, item, n) for n in range(1, 11)]
    rows[1]["areaCode"] = "37"  # row 2 refused
    rows[7]["areaCode"] = "37"  # row 8 refused
    path = write_csv(tmp_path / "records.csv", rows)
    seen = []
    result = importer.import_file(path, kind="records", shape="national", chunk=3, progress=seen.append)
    assert (result.rows, result.created, result.refused) == (10, 8, 2)
    assert seen == [3, 6, 9, 10, 10]  # a checkpoint after every chunk (then the end)
    refused = (tmp_path / "records.csv.refused.csv").read_text("utf-8-sig").splitlines()
    assert [r.split(",")[0] for r in refused[1:]] == ["2", "8"]

    # As if killed after the refusals of rows 7–9 were written but before their checkpoint (done = 6): the rerun
    # reads rows 7–10 again, replays them, and row 8's refusal is listed once.
    importer._save_progress(path, "records", "national", 6)
    again = importer.import_file(path, kind="records", shape="national", chunk=3)
    assert (again.skipped, again.created, again.replayed, again.refused, again.refused_before) == (6, 0, 3, 1, 1)
    refused = (tmp_path / "records.csv.refused.csv").read_text("utf-8-sig").splitlines()
    assert [r.split(",")[0] for r in refused[1:]] == ["2", "8"]
    assert ServiceRecord.objects.count() == 8


def test_a_resumed_jsonl_import_passes_over_the_rows_done_unparsed(db, tmp_path, org, item):
    path = tmp_path / "e.jsonl"
    path.write_text("{not json\n\n" + json.dumps({"idempotency_key": "k1", "project_no": "NONE", "stage": "complete",
                                                  "channel": "qr", "level": 5}) + "\n", encoding="utf-8")
    importer._save_progress(path, "evaluations", "internal", 1)
    result = importer.import_file(path, kind="evaluations")
    assert (result.rows, result.skipped, result.refused) == (2, 1, 1)
    # Row 2 (the blank line does not count) is refused for its missing time; row 1 was done before and not read.
    assert [r.split(",")[:2] for r in (tmp_path / "e.jsonl.refused.csv").read_text("utf-8-sig").splitlines()[1:]] == [
        ["2", "evaluated_at"]]
