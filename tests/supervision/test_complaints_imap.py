"""E-mail intake against a real IMAP server (dovecot, started by tests/supervision/dovecot.py): a complaint
e-mailed to the mailbox becomes a complaint and a case; a message is read once (keyword on the server, row here,
idempotent on its Message-ID); no usable text, a huge or a foreign attachment: refused with the reason recorded."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from haochaping.rectification.models import RectificationCase
from haochaping.rectification.rules import Kind
from haochaping.supervision.complaints import mail, rules
from haochaping.supervision.models import IntakeMailbox, MailMessage, SocialReview
from tests.supervision.dovecot import mail_server  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def mailbox(org, mail_server):  # noqa: F811
    mail_server.reset()
    return IntakeMailbox.objects.create(
        name="历下区投诉邮箱", host=mail_server.host, port=mail_server.port, use_ssl=False,
        username=mail_server.user, password=mail_server.password, region=org.county, department=org.department,
    )


def message(*, subject="窗口服务投诉", body="我于上周在综合受理窗口办理营业执照，工作人员态度恶劣。", msg_id="<c1@example.cn>",
            sender="王女士 <wang.nvshi@example.cn>", files=(), html=None) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "tousu@example.gov.cn"
    msg["Subject"] = subject
    if msg_id:
        msg["Message-ID"] = msg_id
    if html is not None:
        msg.set_content(html, subtype="html")
    else:
        msg.set_content(body)
    for name, content, (maintype, subtype) in files:
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    return msg.as_bytes()


def test_an_emailed_complaint_opens_a_case_and_is_read_once(mailbox, mail_server, org):  # noqa: F811
    mail_server.deliver(message(files=[("现场照片.pdf", PDF, ("application", "pdf"))]))
    assert mail.poll(mailbox) == mail.PollResult(accepted=1)

    complaint = SocialReview.objects.get()
    assert complaint.source == "email" and complaint.department_id == org.department.pk
    assert "态度恶劣" in complaint.summary and "窗口服务投诉" in complaint.summary
    assert str(complaint.complainant_email) == "w*********@example.cn"
    assert complaint.complainant_email.reveal() == "wang.nvshi@example.cn"
    assert complaint.complainant_name.reveal() == "王女士"
    assert complaint.case.kind == Kind.COMPLAINT and complaint.case.department_id == org.department.pk
    assert complaint.channel == f"mailbox:{mailbox.pk}"
    [attachment] = complaint.attachments.all()
    assert attachment.original_name == "现场照片.pdf" and attachment.file.read() == PDF
    assert MailMessage.objects.get().status == "accepted"
    assert rules.DONE_KEYWORD.encode() in mail_server.flags()[0] and b"\\Seen" in mail_server.flags()[0]
    mailbox.refresh_from_db()
    assert mailbox.last_polled_at is not None and mailbox.last_error == ""

    # Read again: nothing new. The same message delivered again (same Message-ID): skipped, nothing added.
    assert mail.poll(mailbox) == mail.PollResult()
    mail_server.deliver(message())
    assert mail.poll(mailbox) == mail.PollResult(skipped=1)
    assert SocialReview.objects.count() == 1 and RectificationCase.objects.count() == 1


def test_an_html_only_message_is_read_for_its_text(mailbox, mail_server):  # noqa: F811
    mail_server.deliver(message(msg_id="<h1@example.cn>", html="<p>办事大厅<b>空调</b>坏了一个月没人修</p><script>x()</script>"))
    assert mail.poll(mailbox).accepted == 1
    summary = SocialReview.objects.get().summary
    assert "办事大厅 空调 坏了一个月没人修" in summary and "script" not in summary and "x()" not in summary


def test_messages_without_text_or_with_bad_files_are_refused_with_the_reason(mailbox, mail_server, settings):  # noqa: F811
    settings.HAOCHAPING_MAX_UPLOAD_MB = 1
    mb = 1024 * 1024
    mail_server.deliver(message(msg_id="<empty@example.cn>", subject="", body="\n> 引用的旧邮件\n"))
    mail_server.deliver(message(msg_id="<big@example.cn>", files=[("scan.pdf", PDF + b"0" * (mb + 10), ("application", "pdf"))]))
    mail_server.deliver(message(msg_id="<huge@example.cn>", files=[("scan.pdf", PDF + b"0" * (3 * mb), ("application", "pdf"))]))
    mail_server.deliver(message(msg_id="<exe@example.cn>", files=[("photo.pdf", b"MZ\x90\x00" * 100, ("application", "pdf"))]))
    mail_server.deliver(message(msg_id=None, body="没有邮件标识的投诉：窗口午休时间提前关门。"))

    assert mail.poll(mailbox) == mail.PollResult(accepted=1, refused=4)
    reasons = sorted(MailMessage.objects.filter(status="refused").values_list("reason", flat=True))
    assert reasons == ["bad_attachment", "no_text", "too_large", "too_large"]
    assert SocialReview.objects.count() == 1 and RectificationCase.objects.count() == 1
    assert "提前关门" in SocialReview.objects.get().summary
    # Every message is marked on the server: the next run reads nothing.
    assert all(rules.DONE_KEYWORD.encode() in f for f in mail_server.flags())
    assert mail.poll(mailbox) == mail.PollResult()


def test_a_wrong_password_is_recorded_on_the_mailbox_not_raised(mailbox, mail_server, caplog):  # noqa: F811
    mailbox.password = "wrong-password"
    mailbox.save()
    mail_server.deliver(message(msg_id="<pw@example.cn>"))
    assert mail.poll_all() == mail.PollResult()
    mailbox.refresh_from_db()
    assert "登录或读取邮箱失败" in mailbox.last_error and SocialReview.objects.count() == 0
    assert "wrong-password" not in caplog.text and mail_server.user not in caplog.text


def test_the_worker_reads_the_mailboxes_every_quarter_hour():
    from datetime import timedelta

    from haochaping.core import schedule

    schedule.autodiscover()
    entry = next(p for p in schedule.registered() if p.name.endswith("read_intake_mailboxes"))
    assert entry.every == timedelta(minutes=15)
