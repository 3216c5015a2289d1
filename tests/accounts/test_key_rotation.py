"""`haochaping rotate_personal_data_key`: personal data re-encrypted under the new SM4 key, in batches, resumable."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from haochaping.accounts.management.commands.rotate_personal_data_key import personal_data_models
from haochaping.accounts.models import User
from haochaping.core import crypto
from haochaping.evaluation.models import Evaluation
from haochaping.records.models import ServiceRecord

from .privacy_helpers import EVALUATOR_NAME, EVALUATOR_PHONE, ID_NUMBER, NAME, PHONE, evaluation_of, record_in

pytestmark = pytest.mark.django_db

KEY1 = "1:" + "11" * 16
KEY2 = "2:" + "22" * 16


@pytest.fixture
def keys(settings):
    def use(value):
        settings.HAOCHAPING_SM4_KEY = value
        crypto.reset_key_cache()

    use(KEY1)
    yield use
    crypto.reset_key_cache()  # settings are restored after the test; the cache must not outlive them


def stored_blobs(model, field):
    """The bytes in the column, as the database holds them."""
    table, column = model._meta.db_table, model._meta.get_field(field).column
    with connection.cursor() as cur:
        cur.execute(f"SELECT {connection.ops.quote_name(column)} FROM {connection.ops.quote_name(table)} "
                    f"WHERE {connection.ops.quote_name(column)} IS NOT NULL")
        return [bytes(row[0]) for row in cur.fetchall()]


def all_key_ids():
    ids = []
    for model, fields in personal_data_models():
        for f in fields:
            ids += [crypto.key_id_of(b) for b in stored_blobs(model, f.name)]
    return ids


def rotate(*args) -> str:
    out = StringIO()
    call_command("rotate_personal_data_key", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def data(org, item, keys):
    records = [record_in(org, item) for _ in range(5)]
    evaluations = [evaluation_of(r) for r in records[:3]]
    admin = User.objects.create_user("admin-totp", password=None, role="administrator")
    admin.totp_secret = "JBSWY3DPEHPK3PXP"
    admin.save()
    return records, evaluations, admin


def test_models_are_found_through_the_app_registry():
    found = {m._meta.label: sorted(f.name for f in fs) for m, fs in personal_data_models()}
    assert found["records.ServiceRecord"] == ["applicant_id_number", "applicant_name", "applicant_phone"]
    assert found["evaluation.Evaluation"] == ["evaluator_name", "evaluator_phone"]
    assert found["accounts.User"] == ["totp_secret"]


def test_rotation_moves_every_value_to_the_new_key_and_the_old_key_can_go(data, keys):
    records, evaluations, admin = data
    assert set(all_key_ids()) == {1}
    index_before = list(ServiceRecord.objects.order_by("pk").values_list("applicant_phone_index", "applicant_id_index"))
    ev_index_before = list(Evaluation.objects.order_by("pk").values_list("evaluator_phone_index", flat=True))
    assert all(all(pair) for pair in index_before) and all(ev_index_before)

    keys(f"{KEY2},{KEY1}")
    out = rotate("--batch-size", "2")
    assert "records.ServiceRecord" in out and "已重新加密 5 行 15 个值" in out
    assert "evaluation.Evaluation" in out and "已重新加密 3 行 6 个值" in out
    assert "accounts.User" in out and "可以从 HAOCHAPING_SM4_KEY 中删除旧密钥" in out
    assert set(all_key_ids()) == {2} and len(all_key_ids()) == 5 * 3 + 3 * 2 + 1

    keys(KEY2)  # the old key is gone: everything still decrypts
    for r in ServiceRecord.objects.all():
        assert (r.applicant_name.reveal(), r.applicant_phone.reveal(), r.applicant_id_number.reveal()) == (NAME, PHONE, ID_NUMBER)
    for ev in Evaluation.objects.all():
        assert (ev.evaluator_name.reveal(), ev.evaluator_phone.reveal()) == (EVALUATOR_NAME, EVALUATOR_PHONE)
    assert User.objects.get(pk=admin.pk).totp_secret.reveal() == "JBSWY3DPEHPK3PXP"
    # Blind indexes use their own key: lookups by phone or ID number keep working unchanged.
    assert list(ServiceRecord.objects.order_by("pk").values_list("applicant_phone_index", "applicant_id_index")) == index_before
    assert list(Evaluation.objects.order_by("pk").values_list("evaluator_phone_index", flat=True)) == ev_index_before
    assert ServiceRecord.objects.filter(applicant_phone_index=crypto.blind_index(PHONE, kind="phone")).count() == 5
    assert Evaluation.objects.filter(evaluator_phone_index=crypto.blind_index(EVALUATOR_PHONE, kind="phone")).count() == 3


def test_without_rotation_removing_the_old_key_loses_the_data(data, keys):
    # The control for the test above: it is the rotation that makes the old key removable.
    keys(KEY2)
    with pytest.raises(crypto.DecryptionError):
        ServiceRecord.objects.first().applicant_name.reveal()


def test_dry_run_counts_and_changes_nothing(data, keys):
    keys(f"{KEY2},{KEY1}")
    before = {m._meta.label: {f.name: stored_blobs(m, f.name) for f in fs} for m, fs in personal_data_models()}
    out = rotate("--dry-run")
    assert "试运行" in out and "需重新加密 5 行 15 个值" in out and "合计需重新加密 22 个值" in out
    after = {m._meta.label: {f.name: stored_blobs(m, f.name) for f in fs} for m, fs in personal_data_models()}
    assert after == before and set(all_key_ids()) == {1}


def test_a_second_run_has_nothing_left_to_do(data, keys):
    keys(f"{KEY2},{KEY1}")
    rotate()
    blobs = stored_blobs(ServiceRecord, "applicant_phone")
    out = rotate()
    assert "已重新加密 0 行 0 个值" in out and "合计已重新加密 0 个值" in out
    assert stored_blobs(ServiceRecord, "applicant_phone") == blobs


def test_an_interrupted_run_resumes(data, keys):
    records, _evaluations, _admin = data
    keys(f"{KEY2},{KEY1}")
    # As if a previous run stopped after the first two rows.
    for r in records[:2]:
        ServiceRecord.objects.filter(pk=r.pk).update(
            applicant_name=crypto.sm4_encrypt(NAME), applicant_phone=crypto.sm4_encrypt(PHONE),
            applicant_id_number=crypto.sm4_encrypt(ID_NUMBER),
        )
    out = rotate("--batch-size", "1")
    assert "records.ServiceRecord（办件）：检查 5 行，已重新加密 3 行 9 个值" in out
    assert set(all_key_ids()) == {2}


def test_rows_written_during_the_rotation_use_the_new_key(org, item, data, keys):
    keys(f"{KEY2},{KEY1}")
    new = record_in(org, item)
    assert {crypto.key_id_of(b) for b in stored_blobs(ServiceRecord, "applicant_phone")} == {1, 2}
    rotate()
    assert ServiceRecord.objects.get(pk=new.pk).applicant_phone.reveal() == PHONE
    assert set(all_key_ids()) == {2}


def test_a_value_under_a_key_no_longer_configured_stops_the_command(data, keys):
    keys(KEY2)  # key 1 removed too early
    from django.core.management.base import CommandError

    with pytest.raises(CommandError) as exc:
        rotate()
    assert "无法解密" in str(exc.value) and "1" in str(exc.value)


def test_batch_size_must_be_positive(keys):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        rotate("--batch-size", "0")


if connection.vendor == "postgresql":
    # SQLite has no row locks (a write transaction locks the whole file), so this case exists on PostgreSQL only.

    @pytest.mark.django_db(transaction=True)
    def test_a_row_locked_by_a_running_request_is_skipped_then_done_on_the_next_run(org, item, keys):
        import threading

        from django.db import transaction

        records = [record_in(org, item) for _ in range(3)]
        keys(f"{KEY2},{KEY1}")
        locked, release = threading.Event(), threading.Event()

        def request_holding_a_row():
            try:
                with transaction.atomic():
                    ServiceRecord.objects.select_for_update().get(pk=records[1].pk)
                    locked.set()
                    release.wait(30)
            finally:
                connection.close()

        thread = threading.Thread(target=request_holding_a_row)
        thread.start()
        try:
            assert locked.wait(10)
            out = rotate("--batch-size", "2")
        finally:
            release.set()
            thread.join()
        assert "1 行正被其他操作锁定而跳过" in out and "请再次运行本命令" in out
        ids = {r.pk: crypto.key_id_of(r.applicant_phone.blob) for r in ServiceRecord.objects.all()}
        assert ids == {records[0].pk: 2, records[1].pk: 1, records[2].pk: 2}
        assert "可以从 HAOCHAPING_SM4_KEY 中删除旧密钥" in rotate()
        assert set(all_key_ids()) == {2}
