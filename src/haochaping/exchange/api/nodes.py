"""The upper node's side of reporting (R6.2, §四(三)): lower nodes push signed batches, read back per-day counts for
reconciliation and fetch the reports made about their regions. Plus the health endpoint, which shows the outbox lag
of this node's own reporting upward. Thin: the work is in exchange.services."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from django.conf import settings
from django.db import connection
from django.http import FileResponse
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from haochaping.accounts.auth import ApiKeyAuth
from haochaping.accounts.models import Scope
from haochaping.core import partitions, replicas, schedule
from haochaping.core.problems import DomainError, not_found
from haochaping.core.schemas import QuerySchema
from haochaping.insight.rollups import pending as pending_counts

from ..models import LowerNode
from ..services import outbox, receiving, reconcile, reports
from . import batch

router = Router(tags=["上下级节点"])
health_router = Router(tags=["运行状态"])
node_auth = ApiKeyAuth(Scope.EVALUATIONS_WRITE)
MAX_COUNT_DAYS = 92
FOREIGN_KIND = {"record": "records", "evaluation": "evaluations"}


class PushFilter(QuerySchema):
    shape: Literal["internal", "national", "national-pf7-default"] = Field(
        "internal", description="条目格式：internal 本系统格式（含差评整改结果）；national / national-pf7-default 国家平台接口格式")


class PushResult(Schema):
    index: int
    status: Literal["created", "updated", "replayed", "refused"]
    problem: dict | None = None


class PushOut(Schema):
    created: int
    updated: int
    replayed: int
    refused: int
    results: list[PushResult]


def _node(request):
    node = LowerNode.objects.filter(api_key=request.api_key).select_related("api_key__region").first()
    if node is None:
        raise DomainError(403, "禁止操作", "该接口密钥未登记为下级节点", "Authorization", code="forbidden")
    return node


@router.post(
    "push", response=PushOut, auth=node_auth, summary="下级节点报送",
    description=("下级节点按序报送办件、评价和差评整改结果，每批至多 1000 条。须带 X-HCP-App-Id、X-HCP-Timestamp（毫秒）"
                 "和 X-HCP-Signature（SM2，对 app id、时间戳和请求体 SM3 摘要签名）；约定了报文密钥的须 SM4 加密。"
                 "逐条答复；只接受该节点所辖行政区划的数据。见 docs/exchange.md。"),
)
def push(request, filters: Query[PushFilter]):
    node = receiving.node_for(request.api_key, request.headers, request.body)
    items = receiving.items_of(node, request.headers, request.body, batch.MAX_ITEMS)
    now = timezone.now()
    results = []
    for index, item in enumerate(items):
        kind = FOREIGN_KIND.get(item.get("kind") if isinstance(item, dict) else None, "records")
        answer = batch._each([item], lambda raw: receiving.receive_item(node, filters.shape, raw, now=now),
                             kind=kind, shape=filters.shape)["results"][0]
        results.append({**answer, "index": index})
    receiving.touch(node, now)
    counts = {s: sum(r["status"] == s for r in results) for s in ("created", "updated", "replayed", "refused")}
    return {**counts, "results": results}


class CountsFilter(QuerySchema):
    start: date = Field(..., description="起始日期（含）")
    end: date = Field(..., description="结束日期（含）")


class CountRow(Schema):
    day: date
    region_code: str
    kind: Literal["evaluations", "records"]
    count: int


class CountsOut(Schema):
    counts: list[CountRow]


@router.get("counts", response=CountsOut, auth=node_auth, summary="对账：按日、按行政区划的数量",
            description=f"评价按评价时间、办件按受理时间计数，只含该节点所辖行政区划；一次至多 {MAX_COUNT_DAYS} 天。")
def counts(request, filters: Query[CountsFilter]):
    node = _node(request)
    if filters.end < filters.start:
        raise DomainError(422, "请求内容有误", "end：结束日期不能早于起始日期", "end", code="invalid")
    if filters.end - filters.start > timedelta(days=MAX_COUNT_DAYS - 1):
        raise DomainError(422, "请求内容有误", f"end：一次至多 {MAX_COUNT_DAYS} 天", "end", code="invalid")
    region = node.api_key.region_id
    return {"counts": reconcile.as_rows(reconcile.daily_counts(filters.start, filters.end, region_code=region))}


class ReportRow(Schema):
    id: int
    title: str
    kind: str
    period_start: date
    period_end: date
    region_code: str
    department: str | None
    generated_at: str


class ReportsOut(Schema):
    reports: list[ReportRow]


@router.get("reports", response=ReportsOut, auth=node_auth, summary="下发给该节点的统计报告",
            description="上级节点就该节点所辖地区和部门生成的月报、季报、年报（§四(三)）。")
def report_list(request):
    node = _node(request)
    rows = reports.reports_for_node(node.api_key.region_id)[:500]
    return {"reports": [
        {"id": r.pk, "title": r.title, "kind": r.kind, "period_start": r.period_start, "period_end": r.period_end,
         "region_code": r.region_id, "department": r.department.name if r.department_id else None,
         "generated_at": r.generated_at.isoformat()} for r in rows
    ]}


@router.get("reports/{report_id}/pdf", auth=node_auth, summary="下载下发的报告（PDF）",
            response={200: None})
def report_pdf(request, report_id: int):
    node = _node(request)
    report = reports.reports_for_node(node.api_key.region_id).filter(pk=report_id).first()
    if report is None or not report.pdf:
        raise not_found("报告不存在", "report_id")
    return FileResponse(report.pdf.open("rb"), content_type="application/pdf")


class UpstreamHealth(Schema):
    upstream: str
    pending: int
    dead: int
    lag_seconds: int


class ReplicaHealth(Schema):
    status: Literal["ok", "down"] = Field(description="只读副本是否可用")
    reads: Literal["replica", "primary"] = Field(description="看板、报表、导出和公开门户当前从哪里读：副本不可用时改读主库")
    lag_seconds: float | None = Field(None, description="副本滞后秒数（已收到的日志全部回放时为 0）")
    lag_bytes: int | None = Field(None, description="主库已写、副本尚未回放的 WAL 字节数")
    replay_paused: bool = Field(False, description="副本回放是否暂停")
    in_recovery: bool | None = Field(None, description="副本是否处于备库（恢复）状态")


class HealthOut(Schema):
    status: Literal["ok", "degraded"]
    database: Literal["ok"]
    replica: ReplicaHealth | None = Field(None, description="只读副本（未配置 DATABASE_REPLICA_URL 时为空）")
    outbox: list[UpstreamHealth]
    counting_lag_seconds: float | None = Field(
        None, description="最早一条尚未计入统计计数的评价已等待的秒数（PostgreSQL：单条提交写入后由 worker 或下一次读统计计入；"
                          "没有待计入的评价时为空）")
    problems: list[str]


@health_router.get("", response=HealthOut, auth=None, summary="运行状态",
                   description="数据库可用即 200；报送积压（最早一条待报送的时长）超过阈值、有报送失败待处理、只读副本不可用"
                               "（改读主库）、不是备库或滞后超过阈值、定时任务长时间没有排队（worker 未运行）、评价长时间未计入统计计数、"
                               "缺少本月或下月的分区、默认分区中有数据时 status 为 degraded，problems 逐条说明。")
def health(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    lag = outbox.lag()
    problems = []
    replica = replicas.status()
    if replica and replica["status"] == "down":
        problems.append("只读副本不可用，看板、报表和公开门户已改从主库读取")
    elif replica and replica.get("in_recovery") is False:
        # A promoted standby (or DATABASE_REPLICA_URL pointing at a primary): it no longer follows this primary.
        problems.append("只读副本不是备库（未处于恢复状态），可能已被提升为主库：看板读到的数据不再跟随主库")
    elif replica and (replica["lag_seconds"] or 0) > settings.HAOCHAPING_REPLICA_LAG_ALERT_SECONDS:
        problems.append(f"只读副本滞后 {replica['lag_seconds']:.0f} 秒")
    quiet = schedule.quiet_for()
    if quiet is not None and quiet.total_seconds() > settings.HAOCHAPING_SCHEDULE_ALERT_SECONDS:
        problems.append(f"定时任务已 {quiet.total_seconds() // 60:.0f} 分钟没有排队：haochaping worker 可能没有运行")
    problems.extend(partitions.problems())
    counting_lag = pending_counts.oldest_seconds()
    if counting_lag is not None and counting_lag > settings.HAOCHAPING_PENDING_COUNTS_ALERT_SECONDS:
        problems.append(f"有评价写入 {counting_lag:.0f} 秒仍未计入统计计数：haochaping worker 可能没有运行")
    for name, row in lag.items():
        if row["lag_seconds"] > settings.HAOCHAPING_OUTBOX_LAG_ALERT_SECONDS:
            problems.append(f"向“{name}”报送积压 {row['lag_seconds']} 秒")
        if row["dead"]:
            problems.append(f"向“{name}”报送失败 {row['dead']} 条，待人工处理")
    return {
        "status": "degraded" if problems else "ok", "database": "ok", "problems": problems, "replica": replica,
        "counting_lag_seconds": None if counting_lag is None else round(counting_lag, 1),
        "outbox": [{"upstream": name, "pending": r["pending"], "dead": r["dead"], "lag_seconds": r["lag_seconds"]}
                   for name, r in lag.items()],
    }
