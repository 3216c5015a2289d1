"""Tables of 通报 (§四(四)): a management agency's bulletin of typical cases to the units of its subtree, and each
unit's acknowledgement of receipt."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from haochaping.core.scoping import ScopePaths


class BulletinKind(models.TextChoices):
    TYPICAL_BAD = "typical_bad", _("典型差评案例")
    GOOD_PRACTICE = "good_practice", _("典型经验")


class Bulletin(models.Model):
    """A bulletin issued by the management agency of ``region`` to every active unit of its subtree at that time.
    Internal until the agency makes it public (then the portal shows it)."""

    # The issuing agency's supervisors (and those above) see it by region; a unit sees the bulletins sent to it.
    scope_paths = ScopePaths(region=("region_id",), department=("recipients__department_id",),
                             agency=("recipients__agency_id",))
    scope_distinct = True

    region = models.ForeignKey("org.Region", verbose_name=_("行政区划"), on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("类型"), max_length=20, choices=BulletinKind.choices)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("正文"))
    issued_at = models.DateTimeField(_("印发时间"), db_index=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("印发人"), on_delete=models.PROTECT,
                                  related_name="+")
    published_at = models.DateTimeField(_("公开时间"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("通报")
        verbose_name_plural = _("通报")
        ordering = ["-issued_at", "-pk"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_public(self) -> bool:
        return self.published_at is not None


class BulletinRecipient(models.Model):
    """A unit a bulletin was sent to (a department or a service agency), and when one of its users confirmed
    receipt."""

    scope_paths = ScopePaths(region=("bulletin__region_id",), department=("department_id",), agency=("agency_id",))

    bulletin = models.ForeignKey(Bulletin, verbose_name=_("通报"), on_delete=models.CASCADE, related_name="recipients")
    department = models.ForeignKey("org.Department", verbose_name=_("部门"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey("org.ServiceAgency", verbose_name=_("政务服务机构"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    acknowledged_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("签收人"), null=True, blank=True,
                                        on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("通报接收单位")
        verbose_name_plural = _("通报接收单位")
        ordering = ["bulletin_id", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["bulletin", "department"], condition=models.Q(department__isnull=False),
                                    name="bulletin_once_per_department"),
            models.UniqueConstraint(fields=["bulletin", "agency"], condition=models.Q(agency__isnull=False),
                                    name="bulletin_once_per_agency"),
            models.CheckConstraint(condition=models.Q(department__isnull=True) ^ models.Q(agency__isnull=True),
                                   name="bulletin_recipient_one_unit"),
        ]

    def __str__(self) -> str:
        return str(self.department or self.agency)
