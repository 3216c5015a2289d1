"""Pure rules of 综合点评 intake: contact checks, and what an e-mailed complaint is made of (its text, its files)
or why it is refused. No ORM, no IO: the services load and store, these decide."""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.utils import parseaddr

# What a complaint's text may hold (the case's own limit).
MAX_TEXT = 2000
# The reference a source gives (12345 work-order number, platform number).
MAX_REFERENCE = 100
PHONE = re.compile(r"^(1\d{10}|0\d{2,3}-?\d{7,8}|\d{5,8})$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# A message must say something: at least this many characters of text once quoting and signatures are gone.
MIN_TEXT = 5
# The IMAP keyword set on every message the worker has dealt with (accepted or refused), so it is read once.
DONE_KEYWORD = "$HaochapingRead"
# Whole messages above this many times the file limit are refused before their body is downloaded (base64 adds a
# third; headers and text a little more).
MESSAGE_SIZE_FACTOR = 1.5


def phone_problem(value: str) -> str | None:
    value = "".join((value or "").split())
    if value and not PHONE.match(value):
        return "电话号码格式不正确（手机号11位，或区号-号码）"
    return None


def email_problem(value: str) -> str | None:
    value = (value or "").strip()
    if value and (len(value) > 254 or not EMAIL.match(value)):
        return "电子邮箱格式不正确"
    return None


def clean_phone(value: str) -> str:
    return "".join((value or "").split())


@dataclass(frozen=True)
class MailFile:
    name: str
    content: bytes


@dataclass(frozen=True)
class MailComplaint:
    """What the services need from a message: its key, the sender, subject + text, and its files."""

    key: str
    sender_name: str
    sender_email: str
    text: str
    files: list[MailFile] = field(default_factory=list)


@dataclass(frozen=True)
class MailRefusal:
    key: str
    reason: str  # MailMessage.Reason value


def message_key(msg: Message, raw: bytes) -> str:
    """SHA-256 of the Message-ID (normalised), or of the raw message when it has none: the idempotency key."""
    message_id = (msg.get("Message-ID") or "").strip().strip("<>").strip().lower()
    basis = f"id:{message_id}".encode() if message_id else b"raw:" + raw
    return hashlib.sha256(basis).hexdigest()


_TAGS = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"[ \t\r\f\v]+")


def _html_text(markup: str) -> str:
    markup = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", markup)
    markup = re.sub(r"(?i)<br\s*/?>|</p>|</div>", "\n", markup)
    return html.unescape(_TAGS.sub(" ", markup))


def _clean(text: str) -> str:
    """The text without quoted replies (lines starting with ">") and surplus spaces."""
    lines = [_SPACE.sub(" ", line).strip() for line in text.replace("\r\n", "\n").split("\n")]
    lines = [line for line in lines if line and not line.startswith(">")]
    return "\n".join(lines).strip()


def _decoded(part: Message) -> str:
    payload = part.get_payload(decode=True) or b""
    charset = part.get_content_charset() or "utf-8"
    for encoding in (charset, "gb18030", "utf-8"):
        try:
            return payload.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("utf-8", errors="replace")


def body_text(msg: Message) -> str:
    """The message's readable text: the text/plain part, else the text/html part stripped of markup."""
    plain, markup = [], []
    for part in msg.walk():
        if part.is_multipart() or part.get_content_disposition() == "attachment":
            continue
        kind = part.get_content_type()
        if kind == "text/plain":
            plain.append(_decoded(part))
        elif kind == "text/html":
            markup.append(_html_text(_decoded(part)))
    return _clean("\n".join(plain) if plain else "\n".join(markup))


def attachments(msg: Message) -> list[MailFile]:
    files = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        name = part.get_filename()
        if part.get_content_disposition() == "attachment" or (name and not part.get_content_type().startswith("text/")):
            files.append(MailFile(name=(name or "附件")[-200:], content=part.get_payload(decode=True) or b""))
    return files


def header(msg: Message, name: str) -> str:
    """A header's text with RFC 2047 encoded words decoded (a broken header is kept as it came)."""
    value = msg.get(name)
    if value is None:
        return ""
    try:
        return str(make_header(decode_header(str(value))))
    except (LookupError, UnicodeDecodeError, ValueError):
        return str(value)


def read_message(msg: EmailMessage | Message, raw: bytes, *, max_file_bytes: int) -> MailComplaint | MailRefusal:
    """A complaint from a parsed message, or the reason it is refused: no usable text (subject and body together
    under MIN_TEXT characters), or a file above ``max_file_bytes``. File types are checked by the services."""
    key = message_key(msg, raw)
    files = attachments(msg)
    if any(len(f.content) > max_file_bytes for f in files):
        return MailRefusal(key, "too_large")
    subject = _clean(header(msg, "Subject"))
    text = body_text(msg)
    if len(text) < MIN_TEXT:
        return MailRefusal(key, "no_text")
    summary = f"{subject}\n{text}" if subject else text
    name, address = parseaddr(header(msg, "From"))
    if email_problem(address):
        address = ""
    return MailComplaint(key=key, sender_name=name.strip()[:50], sender_email=address.strip(),
                         text=summary[:MAX_TEXT], files=files)


def too_large_to_fetch(size: int, max_file_bytes: int) -> bool:
    """A message so large that one of its files must exceed the limit: refused without downloading it."""
    return size > max_file_bytes * MESSAGE_SIZE_FACTOR + 256 * 1024
