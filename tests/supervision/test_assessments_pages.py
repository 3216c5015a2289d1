"""The assessor's and the agency's pages: an assessor submits on the page (errors in Chinese next to the field,
nothing written), the agency returns with a reason, the assessor resubmits, the agency accepts and opens a case;
other people get 403 or 404."""

from datetime import timedelta

import pytest

from haochaping.rectification.models import RectificationCase
from haochaping.supervision.assessments.models import Assessment, AssessmentEvidence, Commission

from .appraisal_helpers import pdf, png, this_period

pytestmark = pytest.mark.django_db


def form(org, **kw):
    start, end = this_period()
    data = {"department": org.department.pk, "start": start.isoformat(), "end": end.isoformat(),
            "summary": "总体规范", "report": pdf(), "row0-indicator": "STD-ASSESS", "row0-score": "65",
            "row0-findings": "导办人员不足", "row0-recommendations": "增加导办", "row0-files": [png(), pdf("访谈.pdf")],
            "row1-indicator": "ITEM-GUIDE", "row1-score": "88"}
    data.update(kw)
    return data


def test_the_whole_flow_on_the_pages(client, org, cast, commission):
    client.force_login(cast["assessor"])
    overview = client.get("/work/assessments/").content.decode()
    assert commission.title in overview and "第三方评估" in overview
    url = f"/work/assessments/commissions/{commission.pk}/submit/"
    assert "提交评估报告" in client.get(url).content.decode()
    # Outside the commission's period: refused in Chinese next to the field, nothing written.
    _start, end = this_period()
    response = client.post(url, form(org, end=(end + timedelta(days=1)).isoformat()))
    assert response.status_code == 422 and "评估期间截止日晚于委托期间" in response.content.decode()
    response = client.post(url, form(org, **{"row1-score": "150"}))
    assert response.status_code == 422 and "第2行评分：得分应在0–100之间" in response.content.decode()
    assert not Assessment.objects.exists()
    response = client.post(url, form(org))
    assert response.status_code == 302
    a = Assessment.objects.get()
    assert AssessmentEvidence.objects.filter(score__assessment=a).count() == 2
    detail = client.get(response.url).content.decode()
    assert "导办人员不足" in detail and "待审核" in detail and "访谈.pdf" in detail
    file = AssessmentEvidence.objects.filter(score__assessment=a).first()
    download = client.get(f"/work/assessments/{a.pk}/files/{file.pk}/")
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment")
    assert client.get(f"/work/assessments/{a.pk}/report/").status_code == 200
    assert client.post(f"/work/assessments/{a.pk}/", {"action": "decide", "decision": "accept"}).status_code == 404

    client.force_login(cast["supervisor"])
    assert "待审核 1 份" in client.get("/work/assessments/").content.decode()
    response = client.post(f"/work/assessments/{a.pk}/", {"action": "decide", "decision": "return", "reason": ""})
    assert response.status_code == 422 and "请填写退回理由" in response.content.decode()
    response = client.post(f"/work/assessments/{a.pk}/", {"action": "decide", "decision": "return",
                                                          "reason": "证据不足"})
    assert response.status_code == 302

    client.force_login(cast["assessor"])
    page = client.get(f"/work/assessments/{a.pk}/").content.decode()
    assert "证据不足" in page and "重新提交" in page
    resubmit = client.get(f"{url}?resubmit={a.pk}").content.decode()
    assert "退回理由：证据不足" in resubmit and "导办人员不足" in resubmit
    assert client.post(f"{url}?resubmit={a.pk}", form(org)).status_code == 302
    a.refresh_from_db()
    assert a.state == "submitted" and a.submissions == 2

    client.force_login(cast["supervisor"])
    assert client.post(f"/work/assessments/{a.pk}/", {"action": "decide", "decision": "accept"}).status_code == 302
    again = client.post(f"/work/assessments/{a.pk}/", {"action": "decide", "decision": "return", "reason": "x"},
                        follow=True)
    assert "这份评估报告已审核过" in again.content.decode()
    score = a.scores.get(indicator__code="STD-ASSESS")
    response = client.post(f"/work/assessments/{a.pk}/", {"action": "open_cases", "score": [score.pk]})
    assert response.status_code == 302
    case = RectificationCase.objects.get()
    assert case.department == org.department
    assert f"案件 {case.pk}" in client.get(f"/work/assessments/{a.pk}/").content.decode()


def test_the_agency_commissions_on_the_page(client, org, cast):
    client.force_login(cast["supervisor"])
    start, end = this_period()
    data = {"title": "窗口服务第三方评估", "organisation": cast["organisation"].pk, "scope_region": org.county.pk,
            "start": end.isoformat(), "end": start.isoformat()}
    response = client.post("/work/assessments/commissions/new/", data)
    assert response.status_code == 422 and "委托期间截止日不能早于起始日" in response.content.decode()
    assert not Commission.objects.exists()
    data.update(start=start.isoformat(), end=end.isoformat(), departments=[org.department.pk])
    response = client.post("/work/assessments/commissions/new/", data)
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert "窗口服务第三方评估" in page and org.department.name in page


def test_others_get_nothing(client, org, cast, commission):
    client.force_login(cast["outsider"])
    assert commission.title not in client.get("/work/assessments/").content.decode()
    assert client.get(f"/work/assessments/commissions/{commission.pk}/").status_code == 404
    assert client.get(f"/work/assessments/commissions/{commission.pk}/submit/").status_code == 404
    client.force_login(cast["far_supervisor"])
    assert client.get(f"/work/assessments/commissions/{commission.pk}/").status_code == 404
    client.force_login(cast["handler"])
    assert client.get("/work/assessments/").status_code == 403
    assert client.get("/work/assessments/commissions/new/").status_code == 403
    client.force_login(cast["assessor"])
    assert client.get("/work/assessments/commissions/new/").status_code == 403
    client.logout()
    assert client.get("/work/assessments/").status_code == 302
