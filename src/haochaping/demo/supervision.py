"""Demo 综合点评 and 通报 (issue 13 items 1 and 6): a complaint or suggestion from each source a person or a
system brings in, each with its case, and two bulletins of a county's management agency (one made public, one
acknowledged by some units only), so the workbench and the portal have something to show. Idempotent: a database
that has them is left alone. Contacts are invented (the demo's own 演示 numbers)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count

from haochaping.accounts.models import User
from haochaping.accounts.roles import Role
from haochaping.org.models import Department
from haochaping.supervision.bulletins import services as bulletins
from haochaping.supervision.complaints import services as complaints
from haochaping.supervision.models import Bulletin, BulletinRecipient, SocialReview

from .common import at

CHANNEL = "demo"

COMPLAINTS = [
    ("walk_in", "complaint", "", "现场反映：办理营业执照时被要求重复提交已经提交过的材料，来回跑了两趟。", "孙先生", "13700000001", ""),
    ("box", "suggestion", "", "意见箱来信：建议大厅增加老年人助办窗口，并在取号机旁安排引导人员。", "", "", ""),
    ("hotline", "complaint", "12345-DEMO-0001", "12345来电：窗口工作人员午休时间提前离岗，群众排队等候四十分钟无人受理。",
     "周先生", "13700000002", ""),
    ("gov_platform", "complaint", "GOV-DEMO-0001", "中国政府网投诉平台转办：网上申报后三个工作日无人审核，也无法查询进度。",
     "", "", ""),
    ("email", "suggestion", "demo-mail-0001", "电子邮箱来信：建议在网上办事大厅公布各事项的办理进度查询方式。", "吴女士", "",
     "wu.demo@example.cn"),
]

BULLETINS = [
    ("typical_bad", "关于部分窗口推诿扯皮、群众多跑腿问题的通报",
     "近期综合点评和差评整改中发现，个别窗口以“材料不全”为由多次退回申请，却未一次性告知所缺材料，造成群众多跑腿。"
     "各单位要严格落实一次性告知制度，对照本通报开展自查，举一反三、立行立改。", False),
    ("good_practice", "推广“帮办代办”服务典型经验的通报",
     "某政务服务中心设立帮办代办专区，为老年人、残疾人提供全程帮办，相关事项好评率明显提升。现将其做法予以通报，"
     "请各单位结合实际学习借鉴。", True),
]


@dataclass
class SupervisionSummary:
    complaints: int = 0
    bulletins: int = 0


def _county_with_supervisor() -> tuple[User, list[Department]] | None:
    """The demo county with the most departments and a supervisor account."""
    counts = (Department.objects.filter(is_active=True).values("region_id").annotate(n=Count("pk")).order_by("-n",
                                                                                                            "region_id"))
    for row in counts:
        supervisor = User.objects.filter(username=f"sup-{row['region_id']}", role=Role.SUPERVISOR).first()
        if supervisor is not None:
            return supervisor, list(Department.objects.filter(region_id=row["region_id"], is_active=True)
                                    .order_by("name"))
    return None


def build(today: date) -> SupervisionSummary:
    summary = SupervisionSummary()
    found = _county_with_supervisor()
    if found is None:
        return summary
    supervisor, departments = found
    if not SocialReview.objects.filter(channel=CHANNEL).exists():
        for n, (source, nature, reference, text, name, phone, email) in enumerate(COMPLAINTS):
            complaints.register(complaints.ComplaintInput(
                source=source, nature=nature, reference=reference, summary=text, name=name,
                phone=phone, email=email, department=departments[n % len(departments)],
                received_at=at(today - timedelta(days=n + 1), 9 * 3600 + n * 600),
            ), actor=None, channel=CHANNEL)
            summary.complaints += 1
    if not Bulletin.objects.filter(issued_by=supervisor).exists():
        for n, (kind, title, body, public) in enumerate(BULLETINS):
            bulletin = bulletins.issue(kind=kind, title=title, body=body, actor=supervisor,
                                       now=at(today - timedelta(days=7 - n), 10 * 3600))
            # Some units have acknowledged: the agency's page lists who has not.
            for recipient in BulletinRecipient.objects.filter(bulletin=bulletin, department__isnull=False)[:2]:
                handler = User.objects.filter(role=Role.HANDLER, department_id=recipient.department_id).first()
                if handler is not None:
                    bulletins.acknowledge(bulletin.pk, actor=handler, now=at(today - timedelta(days=6 - n), 11 * 3600))
            if public:
                bulletins.publish(bulletin.pk, actor=supervisor, now=at(today - timedelta(days=5), 9 * 3600))
            summary.bulletins += 1
    return summary
