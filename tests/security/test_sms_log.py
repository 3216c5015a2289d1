"""A broken SMS backend must not put the phone number or the invitation link (a bearer token) into the log."""

from __future__ import annotations

import logging

from haochaping.evaluation import sms

PHONE = "13912345678"
TEXT = "【政务服务好差评】请点击 https://hcp.example.gov.cn/i/SeCrEtToKeN123/ 评价"


class ExplodingSender(sms.Sender):
    def send(self, phone, text):
        raise ValueError(f"gateway refused {phone}: {text}")


def test_a_raising_backend_is_logged_without_phone_or_link(settings, caplog):
    settings.HAOCHAPING_SMS_BACKEND = f"{__name__}.ExplodingSender"
    with caplog.at_level(logging.INFO, logger="haochaping.evaluation.sms"):
        result = sms.send(PHONE, TEXT)
    assert not result.ok and result.error == "ValueError"
    logged = caplog.text + "".join(r.exc_text or "" for r in caplog.records)
    assert "ValueError" in logged and "sms backend raised" in logged
    assert PHONE not in logged and "SeCrEtToKeN123" not in logged
