"""Request and response shapes of the statistics API (/api/v1/stats). Definitions: docs/metrics.md."""

from __future__ import annotations

from datetime import date
from typing import Literal

from ninja import Field, Schema

from haochaping.core.schemas import QuerySchema
from haochaping.evaluation.models import Channel
from haochaping.org.models import Sector

from ..metrics import StatsFilter

GroupBy = Literal["region", "department", "agency", "window", "staff", "item", "platform", "channel", "day", "month", "level"]
UnitDimension = Literal["region", "department", "agency", "window", "staff", "item", "platform"]
CoverageOf = Literal["agency", "window", "staff", "item", "platform"]
ChannelCode = Literal[tuple(Channel.values)]  # type: ignore[valid-type]
SectorCode = Literal[("government", "enterprise", *(v for v in Sector.values if v))]  # type: ignore[valid-type]


class StatsFilters(QuerySchema):
    """The same filters on every statistics endpoint; the caller's scope always applies first. A code that does
    not exist or lies outside the scope gives empty figures, never someone else's."""

    region_code: str | None = Field(None, pattern=r"^(\d{6}|\d{9}|\d{12})$", description="行政区划代码；包含其下级地区")
    department: str | None = Field(None, max_length=18, description="部门统一社会信用代码")
    agency: str | None = Field(None, max_length=40, description="政务服务机构编码")
    window: str | None = Field(None, max_length=40, description="窗口编号（通常与机构编码同用）")
    staff_no: str | None = Field(None, max_length=40, description="工作人员工号")
    item: str | None = Field(None, max_length=60, description="事项实施编码")
    platform: str | None = Field(None, max_length=40, description="平台编码")
    channel: ChannelCode | None = Field(None, description="评价渠道")
    sector: SectorCode | None = Field(None, description="单位类别：government 政府部门，enterprise 公共服务企业（全部），"
                                      "或一类企业：water 供水，power 供电，gas 供气，heating 供热，telecom 通信，post 邮政，"
                                      "transport 公共交通")
    date_from: date | None = Field(None, alias="from", description="起始日期（含），北京时间；评价按评价日、办件按办结日")
    date_to: date | None = Field(None, alias="to", description="截止日期（含），北京时间")

    def to_filter(self) -> StatsFilter:
        return StatsFilter.from_codes(
            region_code=self.region_code, department=self.department, agency=self.agency, window=self.window,
            staff_no=self.staff_no, item=self.item, platform=self.platform, channel=self.channel,
            date_from=self.date_from, date_to=self.date_to, sector=self.sector,
        )


class StatsQuery(StatsFilters):
    group_by: GroupBy | None = Field(None, description="分组维度；不填只返回合计")


class RankingQuery(StatsFilters):
    by: UnitDimension = Field("department", description="排名的单位维度")


class CoverageQuery(StatsFilters):
    of: CoverageOf = Field("window", description="覆盖对象：agency 政务服务机构（大厅）、window 窗口、staff 工作人员、item 事项、platform 平台")


class FiguresOut(Schema):
    key: str = Field(description="分组代码（统一社会信用代码、机构编码、机构编码/窗口编号、工号、实施编码、平台编码、渠道、等级、日期或月份）；合计为空")
    name: str
    evaluations: int = Field(description="评价数：计入统计的有效评价（不含不计入统计的和系统默认评价）")
    good: int = Field(description="好评数（非常满意、满意）")
    bad: int = Field(description="差评数（不满意、非常不满意）")
    levels: dict[str, int] = Field(description="有效评价按等级（1–5）的条数")
    followups: int = Field(description="有效评价中的追加评价")
    real_name: int = Field(description="有效评价中的实名评价")
    good_rate: float | None = Field(description="好评率 = 好评数 ÷ 评价数；无评价时为 null")
    bad_rate: float | None = Field(description="差评率 = 差评数 ÷ 评价数")
    satisfaction: float | None = Field(description="满意度（0–100）：有效评价等级的平均，5→100、4→75、3→50、2→25、1→0")
    excluded: int = Field(description="不计入统计的评价（申诉成立、认定误评/恶意差评），另行列示")
    excluded_bad: int = Field(description="其中差评")
    system_default: int = Field(description="导入的系统默认评价，另行列示，不计入任何比率")
    total: int = Field(description="全部评价 = 评价数 + 不计入统计 + 系统默认")
    completed: int | None = Field(description="办结办件数（按办结日）；按渠道或等级分组时为 null")
    rated: int | None = Field(description="其中有评价的办件数（系统默认评价不算）")
    participation_rate: float | None = Field(description="参评率 = rated ÷ completed")


class StatsOut(Schema):
    group_by: str | None
    total: FiguresOut
    groups: list[FiguresOut]


class RankingRowOut(Schema):
    key: str
    name: str
    rank: int | None = Field(description="名次（并列同名次）；样本不足的单位为 null")
    score: float | None = Field(description="好评率95%置信区间（Wilson）下限，排名依据")
    good: int
    evaluations: int
    good_rate: float | None


class RankingsOut(Schema):
    by: str
    min_sample: int = Field(description="参与排名的最少有效评价数")
    ranked: list[RankingRowOut]
    apart: list[RankingRowOut] = Field(description="有效评价少于最少样本数的单位：列出，不排名")


class MissingOut(Schema):
    key: str
    name: str


class CoverageOut(Schema):
    of: str
    active: int = Field(description="期间内有办结办件的对象数")
    evaluated: int = Field(description="其中期间内有评价（系统默认评价不算）的对象数")
    rate: float | None = Field(description="覆盖率 = evaluated ÷ active")
    missing: list[MissingOut] = Field(description="有办结办件但零评价的对象")


class PainPointsQuery(StatsFilters):
    """Bad reviews of [from, to] (default: the current month and the five before it), in the caller's scope."""


class PainPointUnitOut(Schema):
    id: int
    name: str
    count: int = Field(description="该部门被归入此问题的差评数")


class PainPointOut(Schema):
    code: str = Field(description="问题类型代码（见 docs/painpoints.md）；新出现的问题为空")
    name: str = Field(description="问题类型名称；新出现的问题为其关键词")
    emerging: bool = Field(description="是否为尚未归入问题分类的新出现问题")
    count: int = Field(description="归入此问题的差评数")
    share: float = Field(description="占期间内全部差评的比例")
    confidence: float = Field(description="归类的平均置信度（0-1）；新出现的问题为0")
    terms: list[str] = Field(description="关键词（新出现的问题）")
    units: list[PainPointUnitOut] = Field(description="差评最集中的部门")
    evaluation_ids: list[int] = Field(description="归入此问题的差评 id（可用 /api/v1/evaluations/{id} 核对）")
    neutral_evaluation_ids: list[int] = Field(description="文字也反映此问题的“基本满意”评价 id（不计入 count）")


class PainPointsOut(Schema):
    date_from: date = Field(alias="from")
    date_to: date = Field(alias="to")
    reviews: int = Field(description="期间内的差评数")
    pending: int = Field(description="有文字评价、尚待后台归类的差评数")
    unclassified: int = Field(description="已归类但不属于任何问题类型的差评数")
    problems: list[PainPointOut]
