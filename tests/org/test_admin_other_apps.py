"""Admin of evaluations, labels, 办件 and API keys (they sit on top of the organisation).
Evaluations and 办件 are read-only and show personal data masked only; labels are validated; API keys
are shown once and revoked, never deleted."""

import uuid

import pytest
from django.urls import reverse

from haochaping.accounts.models import ApiKey
from haochaping.accounts.services import authenticate_api_key
from haochaping.evaluation.models import Evaluation, Label
from haochaping.evaluation.services import EvaluationInput, submit_evaluation
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def evaluation(org, item):
    record = factories.make_record(org, item, applicant_name="王小二", applicant_phone="13912345678")
    data = EvaluationInput(
        idempotency_key=uuid.uuid4().hex, project_no=record.project_no, stage="complete", channel="kiosk", level=2,
        labels=["209"], comment="等了很久", evaluator_name="张三丰", evaluator_phone="13800138000",
    )
    return submit_evaluation(data, source="test").evaluation


def test_evaluation_list_and_detail_show_masked_evaluator_only(admin_client, evaluation):
    listing = admin_client.get(reverse("admin:evaluation_evaluation_changelist"))
    assert listing.status_code == 200
    assert evaluation.receipt_code in listing.content.decode()
    detail = admin_client.get(reverse("admin:evaluation_evaluation_change", args=[evaluation.pk]))
    assert detail.status_code == 200
    html = detail.content.decode()
    assert "张*丰" in html and "138****8000" in html
    assert "张三丰" not in html and "13800138000" not in html
    assert "209 未在承诺时间内办结" in html
    assert 'name="level"' not in html  # nothing editable


def test_evaluations_cannot_be_added_changed_or_deleted(admin_client, evaluation):
    assert admin_client.get(reverse("admin:evaluation_evaluation_add")).status_code == 403
    change_url = reverse("admin:evaluation_evaluation_change", args=[evaluation.pk])
    assert admin_client.post(change_url, {"level": 5}).status_code == 403
    assert admin_client.post(reverse("admin:evaluation_evaluation_delete", args=[evaluation.pk]), {"post": "yes"}).status_code == 403
    admin_client.post(
        reverse("admin:evaluation_evaluation_changelist"),
        {"action": "delete_selected", "_selected_action": [evaluation.pk], "post": "yes"},
    )
    stored = Evaluation.objects.get(pk=evaluation.pk)
    assert (stored.level, stored.is_bad) == (2, True)


def test_record_admin_is_read_only_with_masked_applicant(admin_client, evaluation):
    record = evaluation.record
    listing = admin_client.get(reverse("admin:records_servicerecord_changelist")).content.decode()
    assert record.project_no in listing and "王*" in listing and "王小二" not in listing
    detail = admin_client.get(reverse("admin:records_servicerecord_change", args=[record.pk])).content.decode()
    assert "139****5678" in detail and "13912345678" not in detail
    assert admin_client.get(reverse("admin:records_servicerecord_add")).status_code == 403
    assert admin_client.post(reverse("admin:records_servicerecord_delete", args=[record.pk]), {"post": "yes"}).status_code == 403


def label_form(**kw):
    return {"code": "211", "text": "窗口人员态度生硬", "level": "2", "is_active": "on", **kw}


def test_a_new_label_is_added(admin_client, db):
    r = admin_client.post(reverse("admin:evaluation_label_add"), label_form())
    assert r.status_code == 302
    assert Label.objects.get(code="211").level == 2


@pytest.mark.parametrize(
    "data, message",
    [
        ({"code": "21"}, "标签代码应为3位数字"),
        ({"code": "2A1"}, "标签代码应为3位数字"),
        ({"code": "311"}, "标签代码首位应与对应等级一致（2星标签以2开头）"),
        ({"code": "011", "level": "0"}, "对应等级应为1至5"),
        ({"code": "611", "level": "6"}, "对应等级应为1至5"),
    ],
)
def test_label_code_must_be_3_digits_starting_with_the_level(admin_client, db, data, message):
    r = admin_client.post(reverse("admin:evaluation_label_add"), label_form(**data))
    assert r.status_code == 200
    html = r.content.decode()
    assert message in html
    assert not Label.objects.filter(code=data["code"]).exists()


def test_labels_are_deactivated_not_deleted(admin_client, db):
    label = Label.objects.get(code="110")
    url = reverse("admin:evaluation_label_change", args=[label.pk])
    page = admin_client.get(url).content.decode()
    assert 'name="code"' not in page and 'name="level"' not in page
    assert admin_client.post(reverse("admin:evaluation_label_delete", args=[label.pk]), {"post": "yes"}).status_code == 403
    r = admin_client.post(reverse("admin:evaluation_label_changelist"), {"action": "deactivate", "_selected_action": [label.pk]})
    assert r.status_code == 302
    label.refresh_from_db()
    assert label.is_active is False


def test_creating_an_api_key_shows_the_secret_once(admin_client, org):
    r = admin_client.post(
        reverse("admin:accounts_apikey_add"),
        {"name": "历下区业务系统", "scopes": ["records:write", "evaluations:write"], "region": org.county.code, "expires_at": ""},
        follow=True,
    )
    assert r.status_code == 200
    key = ApiKey.objects.get(name="历下区业务系统")
    [message] = [str(m) for m in r.context["messages"] if "只显示这一次" in str(m)]
    assert message.startswith("接口密钥已创建，请立即复制并妥善保存，此密钥只显示这一次：hcp_")
    secret = message.rsplit("：", 1)[1]
    assert secret in r.content.decode()
    assert authenticate_api_key(secret).pk == key.pk
    assert key.scopes == ["records:write", "evaluations:write"]
    # Afterwards neither the list nor the key's page shows it.
    for url in (reverse("admin:accounts_apikey_changelist"), reverse("admin:accounts_apikey_change", args=[key.pk])):
        html = admin_client.get(url).content.decode()
        assert key.prefix in html
        assert secret not in html and key.key_hash not in html


def test_api_key_list_and_revoke_action(admin_client, db):
    key, secret = factories.make_api_key()
    listing = admin_client.get(reverse("admin:accounts_apikey_changelist")).content.decode()
    assert key.prefix in listing and "吊销所选密钥" in listing and "可用" in listing
    r = admin_client.post(reverse("admin:accounts_apikey_changelist"), {"action": "revoke", "_selected_action": [key.pk]})
    assert r.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert authenticate_api_key(secret) is None
    assert admin_client.post(reverse("admin:accounts_apikey_delete", args=[key.pk]), {"post": "yes"}).status_code == 403


def test_api_key_with_no_scope_is_refused(admin_client, db):
    r = admin_client.post(reverse("admin:accounts_apikey_add"), {"name": "无权限", "region": "", "expires_at": ""})
    assert r.status_code == 200
    assert "这个字段是必填项。" in r.content.decode()
    assert not ApiKey.objects.filter(name="无权限").exists()


def test_an_api_keys_rate_limit_is_set_at_creation_and_changed_later(admin_client, org):
    admin_client.post(
        reverse("admin:accounts_apikey_add"),
        {"name": "限流密钥", "scopes": ["records:read"], "region": org.county.code, "expires_at": "",
         "rate_limit_per_minute": "30"},
    )
    key = ApiKey.objects.get(name="限流密钥")
    assert key.rate_limit_per_minute == 30
    change = reverse("admin:accounts_apikey_change", args=[key.pk])
    admin_client.post(change, {"name": "限流密钥", "expires_at": "", "rate_limit_per_minute": "120"})
    key.refresh_from_db()
    assert key.rate_limit_per_minute == 120
    r = admin_client.post(change, {"name": "限流密钥", "expires_at": "", "rate_limit_per_minute": "0"})
    assert r.status_code == 200 and "rate_limit_per_minute" in r.context["adminform"].form.errors
    admin_client.post(change, {"name": "限流密钥", "expires_at": ""})  # left empty: unchanged
    key.refresh_from_db()
    assert key.rate_limit_per_minute == 120
