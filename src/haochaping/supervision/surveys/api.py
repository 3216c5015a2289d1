"""Surveys API (/api/v1/surveys): the surveys in the caller's scope and a survey's results — the same tallies as
the results page (results.summary), under the same filters. Read-only; thin over services and results."""

from __future__ import annotations

from datetime import date

from django.db.models import Count
from ninja import Field, Query, Router, Schema

from haochaping.core.problems import invalid, not_found
from haochaping.core.schemas import QuerySchema

from ..apicommon import PageFilters, PersonAuth, figure_readers, page_by_id
from . import results, services
from .models import Channel

router = Router(tags=["监督查评问卷"])

_AUTH = figure_readers(PersonAuth(services.may_manage, "只有政务服务管理机构的监督人员可以查看监督查评问卷"))


class SurveyOut(Schema):
    id: int
    title: str
    version: int
    status: str
    identity: str
    target_region: str
    target_item: int | None
    created_at: str
    launched_at: str | None
    closed_at: str | None
    responses: int


class OptionCount(Schema):
    label: str
    count: int


class QuestionResultOut(Schema):
    id: int
    position: int
    text: str
    kind: str
    theme: str
    answered: int
    options: list[OptionCount] = Field(..., description="选择题：每个选项被选的次数（多选题一份答卷可选多项）")
    distribution: list[OptionCount] = Field(..., description="量表题：每个分值的人数")
    mean: float | None = Field(None, description="量表题平均分")
    score: float | None = Field(None, description="量表题平均分折算为百分制")
    texts: list[str] = Field(..., description=f"填空题：最近的 {results.TEXTS_SHOWN} 条回答")


class SurveyPage(Schema):
    items: list[SurveyOut]
    next_cursor: str | None
    total: int


class SurveyResultsOut(SurveyOut):
    counted: int = Field(..., description="筛选条件下的答卷数（responses 为全部答卷数）")
    questions: list[QuestionResultOut]


class ResultFilters(QuerySchema):
    region_code: str | None = Field(None, pattern=r"^(\d{6}|\d{9}|\d{12})$", description="答卷人所在行政区划；含下级")
    item: int | None = Field(None, ge=1, description="事项 id")
    channel: Channel | None = Field(None, description="作答渠道：sms 短信链接，qr 二维码，web 网页链接")
    date_from: date | None = Field(None, alias="from", description="提交起始日期（含），北京时间")
    date_to: date | None = Field(None, alias="to", description="提交截止日期（含），北京时间")

    def filters(self) -> results.Filters:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise invalid("起始日期不能晚于截止日期", "from")
        return results.Filters(region=self.region_code or "", item=self.item, channel=self.channel or "",
                               start=self.date_from, end=self.date_to)


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def survey_out(survey, responses: int) -> dict:
    return {"id": survey.pk, "title": survey.title, "version": survey.version, "status": survey.status,
            "identity": survey.identity, "target_region": survey.target_region_id,
            "target_item": survey.target_item_id, "created_at": survey.created_at.isoformat(),
            "launched_at": _iso(survey.launched_at), "closed_at": _iso(survey.closed_at), "responses": responses}


@router.get("", response=SurveyPage, auth=_AUTH, summary="监督查评问卷列表",
            description="调用者权限范围内的问卷（每个版本一份），按 id 游标分页，附答卷数。登录的监督人员可用；"
                        "接口密钥须有 stats:read。")
def list_surveys(request, filters: Query[PageFilters]):
    surveys = services.visible_surveys(request.auth).annotate(n=Count("responses"))
    return page_by_id(surveys, filters, lambda s: survey_out(s, s.n))


@router.get("/{int:survey_id}/results", response=SurveyResultsOut, auth=_AUTH, summary="问卷结果",
            description="每道题的统计，与问卷结果页相同：选择题各选项次数，量表题分布、平均分和百分制得分，填空题最近的回答。"
                        "可按地区、事项、渠道和提交日期筛选。")
def survey_results(request, survey_id: int, filters: Query[ResultFilters]):
    survey = services.visible_surveys(request.auth).filter(pk=survey_id).first()
    if survey is None:
        raise not_found("没有这份问卷", "survey_id")
    total, rows = results.summary(survey, filters.filters())
    return {
        **survey_out(survey, survey.responses.count()),
        "counted": total,
        "questions": [{
            "id": r.question.pk, "position": r.question.position, "text": r.question.text, "kind": r.question.kind,
            "theme": r.question.theme, "answered": r.answered,
            "options": [{"label": label, "count": n} for label, n in r.options],
            "distribution": [{"label": label, "count": n} for label, n in r.distribution],
            "mean": r.mean, "score": r.score, "texts": r.texts,
        } for r in rows],
    }
