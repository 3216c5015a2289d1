"""Helpers for the rectification service tests: take a case through its steps, and check refusals change nothing."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms.models import model_to_dict
from django.utils import timezone

from haochaping.core.models import AuditEntry
from haochaping.core.problems import DomainError
from haochaping.rectification import services
from haochaping.rectification.models import CaseAttachment, CaseTransition, LedgerEntry, RectificationCase
from haochaping.rectification.services import CallbackInput, OutcomeInput

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + b"0" * 32


def png(name="现场照片.png"):
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def pdf(name="整改报告.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def refused(call, status, field=None, detail=None):
    """``call`` raises a DomainError with ``status`` (and ``field``/``detail`` when given); returns the detail."""
    with pytest.raises(DomainError) as exc:
        call()
    err = exc.value
    assert err.status == status, err
    if field is not None:
        assert err.field == field, err
    if detail is not None:
        assert err.detail == detail, err
    return err.detail


def _snapshot(case_id):
    case = RectificationCase.objects.filter(pk=case_id).first()
    ledger = LedgerEntry.objects.filter(case_id=case_id).first()
    return (
        model_to_dict(case) if case else None,
        model_to_dict(ledger) if ledger else None,
        CaseTransition.objects.filter(case_id=case_id).count(),
        AuditEntry.objects.filter(object_type="rectification.RectificationCase", object_id=str(case_id)).count(),
        CaseAttachment.objects.filter(case_id=case_id).count(),
    )


@contextmanager
def unchanged(case_id):
    """Nothing about the case changes inside the block: its row, its 台账, its steps, audit and files."""
    before = _snapshot(case_id)
    yield
    assert _snapshot(case_id) == before


def refused_unchanged(case_id, call, status, field=None, detail=None):
    with unchanged(case_id):
        return refused(call, status, field, detail)


def callback_input(**kw):
    base = dict(at=timezone.now(), method="phone", reached=True, contact="评价人本人",
                facts="窗口确实要求提供指南外材料")
    return CallbackInput(**{**base, **kw})


def steps(case_id):
    return list(CaseTransition.objects.filter(case_id=case_id).values_list("action", "from_state", "to_state"))


def call_back(case_id, handler):
    return services.record_callback(case_id, callback_input(), actor=handler)


def to_answered(case_id, handler, text="经核实，已取消多余材料要求，感谢您的监督。"):
    call_back(case_id, handler)
    services.choose_outcome(case_id, OutcomeInput("fixed_now", detail="已取消指南外材料要求"), actor=handler)
    return services.answer(case_id, text=text, actor=handler)


def ledger_input(deadline, **kw):
    return OutcomeInput("deadline", problem="系统要求上传指南外材料", measures="修改申报系统材料清单",
                        responsible_person="李科长", deadline=deadline, **kw)
