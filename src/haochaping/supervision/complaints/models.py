"""Tables of 社会"综合点评" intake (R3.6): complaints and suggestions from every source, their files, the mailboxes
read over IMAP and what became of each message read there."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from haochaping.core.fields import PersonalDataField
from haochaping.core.scoping import ScopePaths


class Source(models.TextChoices):
    BOX = "box", _("意见箱")
    HOTLINE = "hotline", _("12345热线")
    PLATFORM = "platform", _("监督平台")
    GOV_PLATFORM = "gov_platform", _("中国政府网投诉平台")
    EMAIL = "email", _("电子邮箱")
    WALK_IN = "walk_in", _("现场")


class Nature(models.TextChoices):
    COMPLAINT = "complaint", _("投诉")
    SUGGESTION = "suggestion", _("建议")


class SocialReview(models.Model):
    """One complaint or suggestion as it came in: where from (and its number there), what it says, who sent it
    (encrypted, shown masked) and what it is about. Each opens a rectification case (``case``) for the unit."""

    # The unit concerned, and a public-service enterprise's industry department (§五).
    scope_paths = ScopePaths(region=("region_id",), department=("department_id", "department__industry_department_id"),
                             agency=("agency_id",), staff=("staff_id",))

    source = models.CharField(_("来源"), max_length=20, choices=Source.choices)
    nature = models.CharField(_("性质"), max_length=20, choices=Nature.choices, default=Nature.COMPLAINT)
    # The number the source gave it: the 12345 work-order number, the platform's number, the e-mail's Message-ID
    # (hashed). Unique per source, so a re-sent item is recognised.
    reference = models.CharField(_("来源编号"), max_length=100, blank=True)
    summary = models.TextField(_("内容"))
    complainant_name = PersonalDataField(_("投诉人姓名"), kind="name")
    complainant_phone = PersonalDataField(_("投诉人电话"), kind="phone")
    complainant_email = PersonalDataField(_("投诉人电子邮箱"), kind="email")
    region = models.ForeignKey("org.Region", verbose_name=_("行政区划"), on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey("org.Department", verbose_name=_("被投诉单位"), on_delete=models.PROTECT,
                                   related_name="+")
    agency = models.ForeignKey("org.ServiceAgency", verbose_name=_("政务服务机构"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    staff = models.ForeignKey("org.Staff", verbose_name=_("涉及工作人员"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey("catalog.ServiceItem", verbose_name=_("涉及事项"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="+")
    record = models.ForeignKey("records.ServiceRecord", verbose_name=_("涉及办件"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    case = models.OneToOneField("rectification.RectificationCase", verbose_name=_("整改案件"),
                                on_delete=models.PROTECT, related_name="complaint")
    received_at = models.DateTimeField(_("收到时间"), db_index=True)
    registered_at = models.DateTimeField(_("登记时间"))
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("登记人"), null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="+")
    # Which integration registered it when no person did ("apikey:<prefix>", "mailbox:<id>").
    channel = models.CharField(_("接入方式"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("综合点评")
        verbose_name_plural = _("综合点评")
        ordering = ["-received_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["source", "reference"], condition=~models.Q(reference=""),
                                               name="complaint_once_per_source_reference")]

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.get_nature_display()} {self.pk or ''}".strip()


class SocialReviewAttachment(models.Model):
    """A file that came with a complaint (JPG, PNG or PDF, checked by content as the case files are). Stored
    under MEDIA_ROOT with a random name; served only through the scoped page."""

    scope_paths = ScopePaths(region=("complaint__region_id",), department=("complaint__department_id",),
                             agency=("complaint__agency_id",), staff=("complaint__staff_id",))

    complaint = models.ForeignKey(SocialReview, verbose_name=_("综合点评"), on_delete=models.PROTECT,
                                  related_name="attachments")
    file = models.FileField(_("文件"), upload_to="complaints/%Y/%m/")
    original_name = models.CharField(_("文件名"), max_length=200)
    size = models.PositiveIntegerField(_("大小（字节）"))
    uploaded_at = models.DateTimeField(_("上传时间"))

    class Meta:
        verbose_name = _("综合点评附件")
        verbose_name_plural = _("综合点评附件")
        ordering = ["uploaded_at", "pk"]

    def __str__(self) -> str:
        return self.original_name


class IntakeMailbox(models.Model):
    """A mailbox the worker reads over IMAP for complaints sent by e-mail. Messages land with ``department``
    (the unit that sorts e-mailed complaints, usually the management agency's own office) until transferred."""

    scope_paths = ScopePaths(region=("region_id",))

    name = models.CharField(_("名称"), max_length=100)
    host = models.CharField(_("IMAP服务器"), max_length=200)
    port = models.PositiveIntegerField(_("端口"), default=993)
    use_ssl = models.BooleanField(_("使用SSL"), default=True)
    username = models.CharField(_("用户名"), max_length=200)
    password = PersonalDataField(_("密码"), kind="secret")
    folder = models.CharField(_("邮件夹"), max_length=100, default="INBOX")
    region = models.ForeignKey("org.Region", verbose_name=_("行政区划"), on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey("org.Department", verbose_name=_("受理单位"), on_delete=models.PROTECT,
                                   related_name="+", help_text=_("邮件投诉先交该单位办理，可再转办"))
    is_active = models.BooleanField(_("启用"), default=True)
    last_polled_at = models.DateTimeField(_("最近收取时间"), null=True, blank=True)
    last_error = models.CharField(_("最近错误"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("投诉邮箱")
        verbose_name_plural = _("投诉邮箱")
        ordering = ["region_id", "name"]

    def __str__(self) -> str:
        return self.name


class MailMessage(models.Model):
    """One message read from an intake mailbox, accepted (its complaint) or refused (the reason), so it is read
    once: the key is the Message-ID (or the message's hash when it has none)."""

    class Status(models.TextChoices):
        ACCEPTED = "accepted", _("已受理")
        REFUSED = "refused", _("未受理")

    class Reason(models.TextChoices):
        NO_TEXT = "no_text", _("没有可读的正文")
        TOO_LARGE = "too_large", _("附件或邮件过大")
        BAD_ATTACHMENT = "bad_attachment", _("附件不是JPG、PNG或PDF文件")

    scope_paths = ScopePaths(region=("mailbox__region_id",))

    mailbox = models.ForeignKey(IntakeMailbox, verbose_name=_("投诉邮箱"), on_delete=models.PROTECT,
                                related_name="messages")
    message_key = models.CharField(_("邮件标识"), max_length=64)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices)
    reason = models.CharField(_("未受理原因"), max_length=20, choices=Reason.choices, blank=True)
    size = models.PositiveIntegerField(_("大小（字节）"), default=0)
    complaint = models.OneToOneField(SocialReview, verbose_name=_("综合点评"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="mail")
    read_at = models.DateTimeField(_("收取时间"))

    class Meta:
        verbose_name = _("收取的邮件")
        verbose_name_plural = _("收取的邮件")
        ordering = ["-read_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["mailbox", "message_key"], name="mail_message_once")]

    def __str__(self) -> str:
        return f"{self.mailbox_id}:{self.message_key[:12]} {self.status}"
