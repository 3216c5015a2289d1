"""通报 through the service layer and the workbench: issued to every active unit of the agency's subtree, each unit
acknowledges once, the agency sees who has not, and only the issuing agency makes it public."""

from __future__ import annotations

import pytest

from haochaping.accounts.models import Role, User
from haochaping.core.models import AuditEntry
from haochaping.core.problems import DomainError
from haochaping.org.models import Department, ServiceAgency
from haochaping.supervision.bulletins import services
from haochaping.supervision.models import Bulletin, BulletinRecipient
from tests import factories

pytestmark = pytest.mark.django_db

BODY = "某窗口工作人员以材料不全为由多次退回申请，造成群众多跑腿。现予通报，各单位引以为戒。"


@pytest.fixture
def units(org):
    """Beside the county's department and hall: a second county department, an inactive one, and a department of
    the neighbouring county (outside the subtree)."""
    return {
        "second": factories.department(org.county, name="历下区人力资源和社会保障局"),
        "inactive": factories.department(org.county, name="已撤销的局", is_active=False),
        "elsewhere": factories.department(org.other_county, name="市中区市场监督管理局"),
    }


def issue(people, **kw):
    return services.issue(kind=kw.pop("kind", "typical_bad"), title=kw.pop("title", "关于窗口推诿扯皮问题的通报"),
                          body=kw.pop("body", BODY), actor=kw.pop("actor", people["supervisor"]))


def test_a_bulletin_goes_to_every_active_unit_of_the_subtree(people, org, units):
    bulletin = issue(people)
    departments = set(BulletinRecipient.objects.filter(bulletin=bulletin, department__isnull=False)
                      .values_list("department_id", flat=True))
    agencies = set(BulletinRecipient.objects.filter(bulletin=bulletin, agency__isnull=False)
                   .values_list("agency_id", flat=True))
    assert departments == set(Department.objects.filter(region=org.county, is_active=True).values_list("pk", flat=True))
    assert units["second"].pk in departments and units["inactive"].pk not in departments
    assert units["elsewhere"].pk not in departments
    assert agencies == set(ServiceAgency.objects.filter(region=org.county).values_list("pk", flat=True))
    assert AuditEntry.objects.filter(action="bulletin.issue", object_id=str(bulletin.pk)).exists()
    assert not bulletin.is_public


def test_units_acknowledge_and_the_agency_sees_who_has_not(people, org, units):
    bulletin = issue(people, kind="good_practice", title="推广“一窗通办”典型经验")
    total = bulletin.recipients.count()
    assert len(services.pending(bulletin)) == total
    done = services.acknowledge(bulletin.pk, actor=people["handler"])
    assert done.newly == 1
    assert services.acknowledge(bulletin.pk, actor=people["handler"]).newly == 0  # twice: nothing changes
    pending = services.pending(bulletin)
    assert len(pending) == total - 1 and org.department.pk not in {r.department_id for r in pending}
    row = BulletinRecipient.objects.get(bulletin=bulletin, department=org.department)
    assert row.acknowledged_by == people["handler"] and row.acknowledged_at is not None


def test_who_may_do_what(people, org, units):
    with pytest.raises(DomainError) as exc:
        issue(people, actor=people["handler"])
    assert exc.value.status == 403
    for field, kw in (("title", {"title": " "}), ("body", {"body": ""}), ("kind", {"kind": "other"})):
        with pytest.raises(DomainError) as exc:
            issue(people, **kw)
        assert (exc.value.status, exc.value.field) == (422, field)
    assert not Bulletin.objects.exists() and not BulletinRecipient.objects.exists()

    bulletin = issue(people)
    # A unit of another county does not see it at all; a supervisor cannot "acknowledge" for a unit.
    stranger = User.objects.create(username="h-far", role=Role.HANDLER, region=org.other_county,
                                   department=units["elsewhere"])
    with pytest.raises(DomainError) as exc:
        services.acknowledge(bulletin.pk, actor=stranger)
    assert exc.value.status == 404
    with pytest.raises(DomainError) as exc:
        services.acknowledge(bulletin.pk, actor=people["supervisor"])
    assert exc.value.status == 403
    # Only the issuing agency makes it public, once.
    with pytest.raises(DomainError) as exc:
        services.publish(bulletin.pk, actor=people["handler"])
    assert exc.value.status == 403
    with pytest.raises(DomainError) as exc:
        services.publish(bulletin.pk, actor=people["far_supervisor"])
    assert exc.value.status == 404
    services.publish(bulletin.pk, actor=people["supervisor"])
    assert Bulletin.objects.get().is_public and list(services.published()) == [bulletin]
    with pytest.raises(DomainError) as exc:
        services.publish(bulletin.pk, actor=people["supervisor"])
    assert exc.value.status == 409


def test_the_workbench_pages(client, people, org, units):
    client.force_login(people["supervisor"])
    refused = client.post("/work/bulletins/new/", {"kind": "typical_bad", "title": "", "body": BODY})
    assert refused.status_code == 422 and "请填写标题" in refused.content.decode()
    created = client.post("/work/bulletins/new/", {"kind": "typical_bad", "title": "关于窗口推诿扯皮问题的通报",
                                                   "body": BODY})
    bulletin = Bulletin.objects.get()
    assert created.status_code == 302 and created.url == f"/work/bulletins/{bulletin.pk}/"
    page = client.get(created.url).content.decode()
    assert f"未签收的单位（{bulletin.recipients.count()}）" in page and units["second"].name in page

    client.force_login(people["handler"])
    listing = client.get("/work/bulletins/").content.decode()
    assert "关于窗口推诿扯皮问题的通报" in listing and "未签收" in listing
    assert client.get("/work/bulletins/new/").status_code == 403
    client.post(f"/work/bulletins/{bulletin.pk}/", {"action": "acknowledge"})
    assert "本单位已签收" in client.get(f"/work/bulletins/{bulletin.pk}/").content.decode()
    assert client.post(f"/work/bulletins/{bulletin.pk}/", {"action": "publish"}).status_code == 403

    client.force_login(people["supervisor"])
    page = client.get(f"/work/bulletins/{bulletin.pk}/").content.decode()
    assert f"1/{bulletin.recipients.count()}个单位已签收" in page
    client.post(f"/work/bulletins/{bulletin.pk}/", {"action": "publish"})
    assert Bulletin.objects.get().is_public

    client.force_login(people["far_supervisor"])
    assert client.get(f"/work/bulletins/{bulletin.pk}/").status_code == 404


def test_only_public_bulletins_appear_on_the_portal(client, people, org, units):
    internal = issue(people, title="内部通报：某窗口推诿")
    public = issue(people, kind="good_practice", title="推广“帮办代办”典型经验")
    services.publish(public.pk, actor=people["supervisor"])
    listing = client.get("/public/bulletins/").content.decode()
    assert "推广“帮办代办”典型经验" in listing and "典型经验" in listing and "内部通报" not in listing
    detail = client.get(f"/public/bulletins/{public.pk}/")
    assert detail.status_code == 200 and BODY in detail.content.decode()
    assert "handler-1" not in detail.content.decode()  # who acknowledged is internal
    assert client.get(f"/public/bulletins/{internal.pk}/").status_code == 404
