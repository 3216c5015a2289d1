"""E-mail intake (R3.6 电子邮箱): the worker reads each active :class:`IntakeMailbox` over IMAP (stdlib imaplib).

Every message not yet marked with rules.DONE_KEYWORD is read once: accepted (a complaint and its case, through
services.register, source 电子邮箱 with the Message-ID's hash as its reference) or refused with a recorded reason
(no usable text, a file too large, a file that is not JPG/PNG/PDF). Either way the message gets the keyword and
``\\Seen`` on the server and a :class:`MailMessage` row here, so a message is never read twice — and if the flag
could not be set, the row (keyed on the Message-ID) still makes the next run skip it.

Nothing here logs an address, a subject or a body: mailbox ids, message sizes and counts only.
"""

from __future__ import annotations

import email
import email.policy
import imaplib
import logging
import re
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from haochaping.core import uploads
from haochaping.core.problems import DomainError

from . import rules, services
from .models import IntakeMailbox, MailMessage, Source

log = logging.getLogger(__name__)

TIMEOUT = 30
# At most this many messages a run per mailbox, so one run stays short; the rest wait for the next run.
BATCH = 200
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


@dataclass
class PollResult:
    accepted: int = 0
    refused: int = 0
    skipped: int = 0  # already read (a row exists), e.g. a flag that could not be set last time

    def __add__(self, other: PollResult) -> PollResult:
        return PollResult(self.accepted + other.accepted, self.refused + other.refused, self.skipped + other.skipped)


def connect(mailbox: IntakeMailbox) -> imaplib.IMAP4:
    cls = imaplib.IMAP4_SSL if mailbox.use_ssl else imaplib.IMAP4
    client = cls(mailbox.host, mailbox.port, timeout=TIMEOUT)
    password = mailbox.password.reveal() if mailbox.password else ""
    client.login(mailbox.username, password)
    return client


def _ok(typ, what: str):
    if typ != "OK":
        raise imaplib.IMAP4.error(f"{what} failed")


def _mark(client: imaplib.IMAP4, uid: bytes) -> None:
    typ, _data = client.uid("STORE", uid, "+FLAGS", f"(\\Seen {rules.DONE_KEYWORD})")
    if typ != "OK":
        log.warning("intake mailbox: could not flag message uid %s", uid.decode())


def _record(mailbox, key: str, status: str, *, reason: str = "", size: int = 0, complaint=None) -> bool:
    """The MailMessage row; False when another run recorded the message first."""
    with transaction.atomic():
        _row, created = MailMessage.objects.get_or_create(
            mailbox=mailbox, message_key=key,
            defaults={"status": status, "reason": reason, "size": size, "complaint": complaint,
                      "read_at": timezone.now()},
        )
    return created


def _refuse(mailbox, key: str, reason: str, size: int) -> None:
    _record(mailbox, key, MailMessage.Status.REFUSED, reason=reason, size=size)
    log.info("intake mailbox %s: message refused (%s, %d bytes)", mailbox.pk, reason, size)


def handle_message(mailbox: IntakeMailbox, raw: bytes) -> str:
    """Read one message: ``accepted``, ``refused`` or ``skipped`` (already read)."""
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    limit = uploads.max_upload_bytes()
    outcome = rules.read_message(msg, raw, max_file_bytes=limit)
    if MailMessage.objects.filter(mailbox=mailbox, message_key=outcome.key).exists():
        return "skipped"
    if isinstance(outcome, rules.MailRefusal):
        _refuse(mailbox, outcome.key, outcome.reason, len(raw))
        return "refused"
    data = services.ComplaintInput(
        source=Source.EMAIL, summary=outcome.text, reference=outcome.key, name=outcome.sender_name,
        email=outcome.sender_email, department=mailbox.department, files=services.mail_files(outcome.files),
    )
    try:
        with transaction.atomic():
            registered = services.register(data, actor=None, channel=f"mailbox:{mailbox.pk}")
            created = _record(mailbox, outcome.key, MailMessage.Status.ACCEPTED, size=len(raw),
                              complaint=registered.complaint if registered.created else None)
    except DomainError as exc:
        reason = MailMessage.Reason.BAD_ATTACHMENT if exc.field == "files" else MailMessage.Reason.NO_TEXT
        if exc.field == "files" and "过大" in exc.detail:
            reason = MailMessage.Reason.TOO_LARGE
        _refuse(mailbox, outcome.key, reason, len(raw))
        return "refused"
    if not created or not registered.created:
        return "skipped"
    log.info("intake mailbox %s: complaint %s registered (%d bytes)", mailbox.pk, registered.complaint.pk, len(raw))
    return "accepted"


def poll(mailbox: IntakeMailbox) -> PollResult:
    """Read the mailbox's unread messages (those without the keyword). Connection errors are recorded on the
    mailbox (``last_error``) and end the run for this mailbox only."""
    result = PollResult()
    limit = uploads.max_upload_bytes()
    try:
        client = connect(mailbox)
    except (TimeoutError, OSError, imaplib.IMAP4.error) as exc:
        _failed(mailbox, exc)
        return result
    try:
        _ok(client.select(mailbox.folder)[0], "SELECT")
        typ, data = client.uid("SEARCH", None, "UNKEYWORD", rules.DONE_KEYWORD)
        _ok(typ, "SEARCH")
        uids = (data[0] or b"").split()[:BATCH]
        for uid in uids:
            typ, data = client.uid("FETCH", uid, "(RFC822.SIZE)")
            _ok(typ, "FETCH")
            match = _SIZE.search(b" ".join(d if isinstance(d, bytes) else d[0] for d in data if d))
            size = int(match.group(1)) if match else 0
            if rules.too_large_to_fetch(size, limit):
                # Refused on its size alone; the key is the UID's, so a re-flag failure still skips it next time.
                key = rules.message_key(email.message_from_bytes(b""), f"{mailbox.pk}:{mailbox.folder}:{uid.decode()}:{size}".encode())
                if not MailMessage.objects.filter(mailbox=mailbox, message_key=key).exists():
                    _refuse(mailbox, key, MailMessage.Reason.TOO_LARGE, size)
                    result.refused += 1
                else:
                    result.skipped += 1
                _mark(client, uid)
                continue
            typ, data = client.uid("FETCH", uid, "(BODY.PEEK[])")
            _ok(typ, "FETCH")
            raw = next((part[1] for part in data if isinstance(part, tuple)), b"")
            outcome = handle_message(mailbox, raw)
            setattr(result, outcome, getattr(result, outcome) + 1)
            _mark(client, uid)
        mailbox.last_polled_at = timezone.now()
        mailbox.last_error = ""
        mailbox.save(update_fields=["last_polled_at", "last_error"])
    except (TimeoutError, OSError, imaplib.IMAP4.error) as exc:
        _failed(mailbox, exc)
    finally:
        try:
            client.logout()
        except (OSError, imaplib.IMAP4.error):
            pass
    return result


def _failed(mailbox: IntakeMailbox, exc: Exception) -> None:
    # The exception's class only: IMAP servers echo the user name in some error texts.
    log.warning("intake mailbox %s: IMAP error (%s)", mailbox.pk, type(exc).__name__)
    if isinstance(exc, imaplib.IMAP4.error):
        text = _("登录或读取邮箱失败：请核对用户名、密码和邮件夹")
    else:
        text = _("无法连接邮件服务器：请核对服务器地址、端口和SSL设置")
    mailbox.last_error = f"{text}（{type(exc).__name__}）"[:300]
    mailbox.save(update_fields=["last_error"])


def poll_all() -> PollResult:
    total = PollResult()
    for mailbox in IntakeMailbox.objects.filter(is_active=True).select_related("department"):
        total = total + poll(mailbox)
    return total
