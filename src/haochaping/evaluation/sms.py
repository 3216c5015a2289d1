"""Pluggable SMS senders for evaluation invitations (R3.3).

``HAOCHAPING_SMS_BACKEND`` names a class (dotted path) with ``send(phone, text) -> SendResult``:

* :class:`FileSender` (development and tests): appends one JSON line per message to ``HAOCHAPING_SMS_FILE``;
  the phone is stored masked with a keyed index, never in clear.
* :class:`ConsoleSender`: prints the masked phone and the text (with its link) to stderr.
* :class:`HttpGatewaySender` (production): POSTs JSON to ``HAOCHAPING_SMS_GATEWAY_URL``. It makes one attempt;
  retries are the task's job (evaluation.tasks), so a slow gateway never holds a worker in a loop.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from haochaping.core import crypto, masking

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SendResult:
    ok: bool
    message_id: str = ""
    error: str = ""  # short, without personal data: it is stored in logs


class Sender:
    def send(self, phone: str, text: str) -> SendResult:  # pragma: no cover - interface
        raise NotImplementedError


class ConsoleSender(Sender):
    """Development: show the message on stderr so the link can be opened by hand."""

    def send(self, phone: str, text: str) -> SendResult:
        print(f"[短信] 收件人 {masking.mask_phone(phone)}：{text}", file=sys.stderr, flush=True)
        return SendResult(ok=True, message_id="console")


class FileSender(Sender):
    """Development and tests: one JSON object per line in ``HAOCHAPING_SMS_FILE``."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path or settings.HAOCHAPING_SMS_FILE)

    def send(self, phone: str, text: str) -> SendResult:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = {
            "at": timezone.now().isoformat(),
            "phone": masking.mask_phone(phone),
            "phone_index": crypto.blind_index(phone, kind="phone"),
            "text": text,
        }
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")
        return SendResult(ok=True, message_id=f"file-{line['phone_index'][:8]}")


def read_file_messages(path: str | Path | None = None) -> list[dict]:
    """The messages a :class:`FileSender` wrote (for tests and the development shell)."""
    p = Path(path or settings.HAOCHAPING_SMS_FILE)
    if not p.exists():
        return []
    return [json.loads(line) for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]


class HttpGatewaySender(Sender):
    """Production: ``POST {"phone": …, "text": …}`` with ``Authorization: Bearer <token>``; any 2xx is success,
    the message id read from the JSON answer's ``message_id`` or ``id`` when present."""

    def __init__(self, url: str | None = None, token: str | None = None, timeout: float | None = None):
        self.url = url if url is not None else settings.HAOCHAPING_SMS_GATEWAY_URL
        self.token = token if token is not None else settings.HAOCHAPING_SMS_GATEWAY_TOKEN
        self.timeout = timeout if timeout is not None else settings.HAOCHAPING_SMS_GATEWAY_TIMEOUT

    def send(self, phone: str, text: str) -> SendResult:
        if not self.url:
            return SendResult(ok=False, error="HAOCHAPING_SMS_GATEWAY_URL not set")
        body = json.dumps({"phone": phone, "text": text}, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json; charset=utf-8", "Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - configured URL
                raw = response.read(65536)
        except urllib.error.HTTPError as exc:
            return SendResult(ok=False, error=f"HTTP {exc.code}")
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            return SendResult(ok=False, error=f"{type(reason).__name__}")
        message_id = ""
        try:
            doc = json.loads(raw or b"{}")
            if isinstance(doc, dict):
                message_id = str(doc.get("message_id") or doc.get("id") or "")
        except ValueError:
            pass
        return SendResult(ok=True, message_id=message_id[:100])


def get_sender() -> Sender:
    """The configured sender (``HAOCHAPING_SMS_BACKEND``)."""
    return import_string(settings.HAOCHAPING_SMS_BACKEND)()


def send(phone: str, text: str) -> SendResult:
    """Send through the configured backend; a backend that raises counts as a failed send."""
    try:
        return get_sender().send(phone, text)
    except Exception as exc:  # a broken backend must not lose the attempt's record
        # Type and place only: the exception's message may quote the phone or the text with its link (a token).
        frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
        where = f"{frame.filename}:{frame.lineno}" if frame else "-"
        log.error("sms backend raised %s at %s", type(exc).__name__, where)
        return SendResult(ok=False, error=type(exc).__name__)
