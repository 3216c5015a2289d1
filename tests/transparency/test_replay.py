"""`haochaping verify_log`: a row changed or deleted directly in the database, behind the application, is reported
with its id; so are a changed leaf, a forged checkpoint and a rewritten history. An untouched log passes."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from haochaping.evaluation import services as evaluation_services
from haochaping.evaluation.models import Evaluation, EvaluationExclusion
from haochaping.transparency import replay, services
from haochaping.transparency.models import Checkpoint, LogLeaf

pytestmark = pytest.mark.django_db


def sql(statement: str, *params) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def verify_log() -> tuple[bool, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_log", stdout=out, stderr=err)
    except CommandError as exc:
        return False, out.getvalue() + err.getvalue() + str(exc)
    return True, out.getvalue() + err.getvalue()


@pytest.fixture
def log(rate):
    evs = [rate(level=lv) for lv in (5, 4, 1, 5)]
    services.seal()
    evaluation_services.exclude_evaluation(evs[2].pk, reason="mistaken", source="case:9", actor=None, note="误评")
    evs.append(rate(level=3))
    services.seal()
    return evs


def test_an_untouched_log_passes(log, rate):
    rate(level=5)  # written, not yet sealed: reported as pending, not as a fault
    ok, out = verify_log()
    assert ok, out
    assert "leaves: 6, checkpoints: 2, unsealed evaluations: 1" in out and "日志核验通过" in out


def test_a_level_changed_in_the_database_is_reported_with_the_evaluation_id(log):
    target = log[0]
    sql(f"UPDATE {table(Evaluation)} SET level = 1 WHERE id = %s", target.pk)  # a 5★ turned into a 差评
    ok, out = verify_log()
    assert not ok
    assert f"评价 id={target.pk} 与封存时不一致（digest、level）" in out
    assert "根哈希与检查点（树大小 4）不一致" in out and "根哈希与检查点（树大小 6）不一致" in out


def test_a_comment_changed_in_the_database_is_caught_through_the_digest(log):
    target = log[2]
    sql(f"UPDATE {table(Evaluation)} SET comment = %s WHERE id = %s", "服务很好", target.pk)
    report = replay.replay()
    assert [(f.what, f.object_id, f.leaf_index) for f in report.findings if f.object_id] == [
        ("evaluation_changed", target.pk, 2)]
    assert "digest" in report.findings[0].detail and "level" not in report.findings[0].detail


def test_a_deleted_evaluation_is_reported_with_its_id(log):
    target = log[3]
    sql(f"DELETE FROM {table(Evaluation)} WHERE id = %s", target.pk)
    ok, out = verify_log()
    assert not ok and f"评价 id={target.pk} 已不在数据库中" in out


def test_a_changed_or_deleted_exclusion_is_reported(log):
    exclusion = EvaluationExclusion.objects.get()
    sql(f"UPDATE {table(EvaluationExclusion)} SET reason = %s WHERE id = %s", "appeal_upheld", exclusion.pk)
    ok, out = verify_log()
    assert not ok and f"不计入统计记录 id={exclusion.pk} 与封存时不一致（digest、reason）" in out
    sql(f"DELETE FROM {table(EvaluationExclusion)} WHERE id = %s", exclusion.pk)
    ok, out = verify_log()
    assert not ok and f"不计入统计记录 id={exclusion.pk} 已不在数据库中" in out


def test_a_leaf_rewritten_together_with_its_row_still_fails_on_the_signed_roots(log):
    # The careful forger changes the evaluation, recomputes its digest and rewrites the stored leaf too.
    target = log[1]
    sql(f"UPDATE {table(Evaluation)} SET level = 1 WHERE id = %s", target.pk)
    leaf = LogLeaf.objects.get(evaluation_id=target.pk)
    sql(f"UPDATE {table(LogLeaf)} SET body = %s WHERE {connection.ops.quote_name('index')} = %s",
        leaf.body.replace('"level":4', '"level":1'), leaf.index)
    report = replay.replay()
    whats = {f.what for f in report.findings}
    assert "leaf_hash_changed" in whats and "root_mismatch" in whats


def test_a_deleted_leaf_row_and_a_forged_checkpoint_are_reported(log):
    sql(f"DELETE FROM {table(LogLeaf)} WHERE {connection.ops.quote_name('index')} = %s", 1)
    cp = Checkpoint.objects.get(tree_size=6)
    sql(f"UPDATE {table(Checkpoint)} SET signature = %s WHERE id = %s", "0" * 128, cp.pk)
    report = replay.replay()
    assert ("leaf_missing", 1) in {(f.what, f.leaf_index) for f in report.findings}
    assert any(f.what == "bad_signature" and "树大小 6" in f.detail for f in report.findings)


def test_a_rewritten_history_breaks_consistency(log):
    # Both checkpoints re-signed over a different first tree: each verifies alone, not as a sequence.
    first = Checkpoint.objects.get(tree_size=4)
    sql(f"UPDATE {table(Checkpoint)} SET root_hash = %s WHERE id = %s", "ab" * 32, first.pk)
    report = replay.replay()
    assert {"root_mismatch", "bad_signature", "inconsistent"} <= {f.what for f in report.findings}
