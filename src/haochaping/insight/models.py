"""Rollups and the figures computed from them (R5, R6): per-day counters of evaluations (DESIGN.md "Rollups")."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from haochaping.core.scoping import ScopePaths

# Columns of the counter's key, in the order the upsert (rollups.py) writes them.
KEY_FIELDS = (
    "day", "region", "department", "agency", "window", "staff", "item", "platform",
    "channel", "level", "type", "is_real_name", "excluded",
)


class CounterQuerySet(models.QuerySet):
    """Counter rows (every counter table has a ``day``)."""

    def in_days(self, date_from=None, date_to=None):
        """The rows of [date_from, date_to]; an open end when None (both None: every row)."""
        qs = self
        if date_from:
            qs = qs.filter(day__gte=date_from)
        if date_to:
            qs = qs.filter(day__lte=date_to)
        return qs


class DailyCounter(models.Model):
    """How many evaluations of one day share one key (units, item, platform, channel, level, type, real-name,
    excluded). Statistics and dashboards read these rows — O(groups), not O(evaluations).

    The units are plain ids, 0 meaning "none", not foreign keys: PostgreSQL and SQLite treat NULLs as distinct in
    a unique index, so a nullable key could not be upserted. Kept in step by insight.receivers in each write's
    transaction; ``haochaping rebuild_rollups`` recomputes them from the evaluations. ``excluded`` rows hold
    evaluations later removed from statistics (appeal upheld, 误评/恶意差评 confirmed); imported system defaults are
    the rows with channel ``system_default``: both counted apart, never dropped."""

    scope_paths = ScopePaths(region=("region",), department=("department",), agency=("agency",), staff=("staff",))

    day = models.DateField(_("日期"))
    region = models.CharField(_("行政区划代码"), max_length=12)
    department = models.PositiveIntegerField(_("部门"))
    agency = models.PositiveIntegerField(_("政务服务机构"), default=0)
    window = models.PositiveIntegerField(_("窗口"), default=0)
    staff = models.PositiveIntegerField(_("工作人员"), default=0)
    item = models.PositiveIntegerField(_("事项"))
    platform = models.PositiveIntegerField(_("平台"), default=0)
    channel = models.CharField(_("评价渠道"), max_length=20)
    level = models.PositiveSmallIntegerField(_("评价等级"))
    type = models.CharField(_("评价类型"), max_length=10)
    is_real_name = models.BooleanField(_("实名评价"))
    excluded = models.BooleanField(_("不计入统计"))
    count = models.IntegerField(_("评价数"), default=0)

    objects = CounterQuerySet.as_manager()

    class Meta:
        verbose_name = _("每日评价计数")
        verbose_name_plural = _("每日评价计数")
        constraints = [models.UniqueConstraint(fields=list(KEY_FIELDS), name="daily_counter_key")]
        indexes = [models.Index(fields=["region", "day"], name="daily_counter_region_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.region} {self.level}: {self.count}"


# Columns of the participation counter's key (rollups.py writes them in this order).
PARTICIPATION_KEY_FIELDS = ("day", "region", "department", "agency", "window", "staff", "item", "platform", "channel")


class DailyParticipation(models.Model):
    """参评率 per completion day (北京时间) and unit of the 办件 (docs/metrics.md): so the figure reads O(groups) rows,
    never the period's 办件.

    The row with ``channel`` "" holds ``completed`` (办结办件数) and ``rated`` (of those, 办件 with at least one
    evaluation that is not an imported system default; excluded evaluations count, someone did rate). A row with a
    channel holds only ``rated``: the completed 办件 rated through that channel (the figure under a channel filter);
    its ``completed`` stays 0 (a 办件 has no channel). Units are plain ids, 0 meaning none, as in DailyCounter.
    Kept in step by insight.receivers (a 办件 saved completed or with a corrected completion time; the first
    evaluation of a completed 办件, overall and per channel); ``rebuild_rollups`` recomputes them from the 办件."""

    scope_paths = ScopePaths(region=("region",), department=("department",), agency=("agency",), staff=("staff",))

    day = models.DateField(_("办结日期"))
    region = models.CharField(_("行政区划代码"), max_length=12)
    department = models.PositiveIntegerField(_("部门"))
    agency = models.PositiveIntegerField(_("政务服务机构"), default=0)
    window = models.PositiveIntegerField(_("窗口"), default=0)
    staff = models.PositiveIntegerField(_("工作人员"), default=0)
    item = models.PositiveIntegerField(_("事项"))
    platform = models.PositiveIntegerField(_("平台"), default=0)
    channel = models.CharField(_("评价渠道"), max_length=20, blank=True)
    completed = models.IntegerField(_("办结办件数"), default=0)
    rated = models.IntegerField(_("有评价的办结办件数"), default=0)

    objects = CounterQuerySet.as_manager()

    class Meta:
        verbose_name = _("每日参评计数")
        verbose_name_plural = _("每日参评计数")
        constraints = [models.UniqueConstraint(fields=list(PARTICIPATION_KEY_FIELDS), name="daily_participation_key")]
        indexes = [models.Index(fields=["region", "day"], name="daily_participation_region_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.region} {self.channel or '*'}: {self.rated}/{self.completed}"


# Value columns of the wide counters, in the order rollups.wide writes them: one per part of an insight.rules.Tally
# (levels of valid evaluations, follow-ups and real-name among them, excluded, excluded 差评, system defaults) and
# the 参评率 pair (completed 办件 on the day, rated ones).
WIDE_VALUES = (
    "level1", "level2", "level3", "level4", "level5", "followups", "real_name", "excluded", "excluded_bad",
    "system_default", "completed", "rated",
)


class WideCounter(models.Model):
    """Per-day totals of a coarse key, every figure's numerator and denominator in one row: the counters the
    common dashboard questions read, whose number of rows stops growing once every unit has its row for the
    day (the fine DailyCounter keeps growing with item × staff × channel × level combinations). Kept in step
    with DailyCounter and DailyParticipation by the same writes (rollups.wide), rebuilt from them."""

    day = models.DateField(_("日期"))
    region = models.CharField(_("行政区划代码"), max_length=12)
    department = models.PositiveIntegerField(_("部门"))
    level1 = models.IntegerField(default=0)
    level2 = models.IntegerField(default=0)
    level3 = models.IntegerField(default=0)
    level4 = models.IntegerField(default=0)
    level5 = models.IntegerField(default=0)
    followups = models.IntegerField(default=0)
    real_name = models.IntegerField(default=0)
    excluded = models.IntegerField(default=0)
    excluded_bad = models.IntegerField(default=0)
    system_default = models.IntegerField(default=0)
    completed = models.IntegerField(default=0)
    rated = models.IntegerField(default=0)

    objects = CounterQuerySet.as_manager()

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.day} {self.region} {self.department}: {self.rated}/{self.completed}"


class RegionDayCounter(WideCounter):
    """WideCounter by (day, region, department): the province, a county, by department, by day or month. Read only
    for callers who see whole regions (no agency or staff columns to scope a handler or staff member by)."""

    key_fields = ("day", "region", "department")
    scope_paths = ScopePaths(region=("region",), department=("department",))

    class Meta:
        verbose_name = _("每日地区部门汇总")
        verbose_name_plural = _("每日地区部门汇总")
        constraints = [models.UniqueConstraint(fields=["day", "region", "department"], name="region_day_counter_key")]
        indexes = [models.Index(fields=["region", "day"], name="region_day_counter_region_day")]


class UnitDayCounter(WideCounter):
    """WideCounter by (day, region, department, agency, window, staff): halls, windows and staff members."""

    key_fields = ("day", "region", "department", "agency", "window", "staff")
    scope_paths = ScopePaths(region=("region",), department=("department",), agency=("agency",), staff=("staff",))

    agency = models.PositiveIntegerField(_("政务服务机构"), default=0)
    window = models.PositiveIntegerField(_("窗口"), default=0)
    staff = models.PositiveIntegerField(_("工作人员"), default=0)

    class Meta:
        verbose_name = _("每日窗口人员汇总")
        verbose_name_plural = _("每日窗口人员汇总")
        constraints = [models.UniqueConstraint(fields=["day", "region", "department", "agency", "window", "staff"],
                                               name="unit_day_counter_key")]
        indexes = [models.Index(fields=["region", "day"], name="unit_day_counter_region_day")]


class RegionDayMix(models.Model):
    """Per day (北京时间), region and department: valid evaluations per channel (``kind`` "channel", ``key`` the
    channel) and valid 差评 per label (``kind`` "label", ``key`` the label code; a 差评 with two labels counts once in
    each). Valid = not excluded, not an imported system default — the same evaluations as the wide counters' levels
    and the dashboard's 差评. The dashboard's channel and 差评标签 charts read these rows (rollups.mix), never the
    evaluations, so their cost stops growing with traffic. Kept in step by the evaluation and exclusion writes,
    rebuilt by ``rebuild_rollups``."""

    scope_paths = ScopePaths(region=("region",), department=("department",))
    key_fields = ("day", "region", "department", "kind", "key")

    day = models.DateField(_("日期"))
    region = models.CharField(_("行政区划代码"), max_length=12)
    department = models.PositiveIntegerField(_("部门"))
    kind = models.CharField(_("分类"), max_length=10)
    key = models.CharField(_("渠道或标签"), max_length=20)
    count = models.IntegerField(_("评价数"), default=0)

    objects = CounterQuerySet.as_manager()

    class Meta:
        verbose_name = _("每日渠道与差评标签汇总")
        verbose_name_plural = _("每日渠道与差评标签汇总")
        constraints = [models.UniqueConstraint(fields=["day", "region", "department", "kind", "key"],
                                               name="region_day_mix_key")]
        indexes = [models.Index(fields=["kind", "region", "day"], name="region_day_mix_kind_region_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.region} {self.department} {self.kind} {self.key}: {self.count}"



# --- per-month rows of the same tables (rollups.monthly) ------------------------------------------------------------
# A wide period (本年, a quarter, a whole month) reads one row per month and unit from these instead of ~30 day rows;
# only the days of a partial month at either edge come from the day tables. Each row is the exact sum of its day
# rows: written by the same statements that write the day rows, recomputed from them by ``rebuild_rollups``.
# ``day`` is the month's first day, so the rows answer the same filtered and grouped queries as the day rows.


class RegionMonthCounter(WideCounter):
    """RegionDayCounter summed per month (``day`` = the month's first day)."""

    key_fields = ("day", "region", "department")
    scope_paths = ScopePaths(region=("region",), department=("department",))

    day = models.DateField(_("月份（该月1日）"))

    class Meta:
        verbose_name = _("每月地区部门汇总")
        verbose_name_plural = _("每月地区部门汇总")
        constraints = [models.UniqueConstraint(fields=["day", "region", "department"], name="region_month_counter_key")]
        indexes = [models.Index(fields=["region", "day"], name="region_month_counter_region")]


class UnitMonthCounter(WideCounter):
    """UnitDayCounter summed per month (``day`` = the month's first day)."""

    key_fields = ("day", "region", "department", "agency", "window", "staff")
    scope_paths = ScopePaths(region=("region",), department=("department",), agency=("agency",), staff=("staff",))

    day = models.DateField(_("月份（该月1日）"))
    agency = models.PositiveIntegerField(_("政务服务机构"), default=0)
    window = models.PositiveIntegerField(_("窗口"), default=0)
    staff = models.PositiveIntegerField(_("工作人员"), default=0)

    class Meta:
        verbose_name = _("每月窗口人员汇总")
        verbose_name_plural = _("每月窗口人员汇总")
        constraints = [models.UniqueConstraint(fields=["day", "region", "department", "agency", "window", "staff"],
                                               name="unit_month_counter_key")]
        indexes = [models.Index(fields=["region", "day"], name="unit_month_counter_region")]


class RegionMonthMix(models.Model):
    """RegionDayMix summed per month (``day`` = the month's first day)."""

    scope_paths = ScopePaths(region=("region",), department=("department",))
    key_fields = ("day", "region", "department", "kind", "key")

    day = models.DateField(_("月份（该月1日）"))
    region = models.CharField(_("行政区划代码"), max_length=12)
    department = models.PositiveIntegerField(_("部门"))
    kind = models.CharField(_("分类"), max_length=10)
    key = models.CharField(_("渠道或标签"), max_length=20)
    count = models.IntegerField(_("评价数"), default=0)

    objects = CounterQuerySet.as_manager()

    class Meta:
        verbose_name = _("每月渠道与差评标签汇总")
        verbose_name_plural = _("每月渠道与差评标签汇总")
        constraints = [models.UniqueConstraint(fields=["day", "region", "department", "kind", "key"],
                                               name="region_month_mix_key")]
        indexes = [models.Index(fields=["kind", "region", "day"], name="region_month_mix_kind_region")]

    def __str__(self) -> str:
        return f"{self.day:%Y-%m} {self.region} {self.department} {self.kind} {self.key}: {self.count}"


# day table → its month table
MONTHLY = {RegionDayCounter: RegionMonthCounter, UnitDayCounter: UnitMonthCounter, RegionDayMix: RegionMonthMix}

# The yes/no questions of the online questionnaire (evaluation.rules.QUESTIONNAIRE, without the free text).
QUESTIONS = ("guide_clear", "process_convenient", "materials_simplified", "interface_friendly")
QUESTIONNAIRE_KEY_FIELDS = ("day", "region", "department", "agency", "item", "platform")
QUESTIONNAIRE_VALUES = ("answered", *(f"{q}_{a}" for q in QUESTIONS for a in ("yes", "no")), "suggestions")


class QuestionnaireCounter(models.Model):
    """Per day and unit (department, hall, item, platform), how many valid evaluations answered the online
    questionnaire, how many answered 是/否 to each of its four questions (服务指引、办事程序、材料手续、操作界面), and
    how many left an improvement suggestion. Kept in step by the same writes as DailyCounter (rollups.questionnaire):
    an excluded evaluation (appeal upheld, 恶意差评) leaves these counts too; ``rebuild_rollups`` recomputes them."""

    scope_paths = ScopePaths(region=("region",), department=("department",), agency=("agency",))

    day = models.DateField(_("日期"))
    region = models.CharField(_("行政区划代码"), max_length=12)
    department = models.PositiveIntegerField(_("部门"))
    agency = models.PositiveIntegerField(_("政务服务机构"), default=0)
    item = models.PositiveIntegerField(_("事项"))
    platform = models.PositiveIntegerField(_("平台"), default=0)
    answered = models.IntegerField(_("答卷数"), default=0)
    guide_clear_yes = models.IntegerField(default=0)
    guide_clear_no = models.IntegerField(default=0)
    process_convenient_yes = models.IntegerField(default=0)
    process_convenient_no = models.IntegerField(default=0)
    materials_simplified_yes = models.IntegerField(default=0)
    materials_simplified_no = models.IntegerField(default=0)
    interface_friendly_yes = models.IntegerField(default=0)
    interface_friendly_no = models.IntegerField(default=0)
    suggestions = models.IntegerField(_("改进意见数"), default=0)

    objects = CounterQuerySet.as_manager()

    class Meta:
        verbose_name = _("每日问卷计数")
        verbose_name_plural = _("每日问卷计数")
        constraints = [models.UniqueConstraint(fields=list(QUESTIONNAIRE_KEY_FIELDS), name="questionnaire_counter_key")]
        indexes = [models.Index(fields=["region", "day"], name="questionnaire_counter_region")]

    def __str__(self) -> str:
        return f"{self.day} {self.region} {self.item}: {self.answered}"


class Suggestion(models.Model):
    """An improvement suggestion (问卷“有何改进意见”) of a valid evaluation, copied at write time with contact details
    typed into it redacted, beside the units it is about: the questionnaire summary lists these rows, never the
    evaluations. No evaluator data; removed again when its evaluation is excluded."""

    scope_paths = ScopePaths(region=("region",), department=("department",), agency=("agency",))

    evaluation_id = models.BigIntegerField(_("评价"), unique=True)
    created_at = models.DateTimeField(_("评价时间"))
    day = models.DateField(_("日期"))
    region = models.CharField(_("行政区划代码"), max_length=12)
    department = models.PositiveIntegerField(_("部门"))
    agency = models.PositiveIntegerField(_("政务服务机构"), default=0)
    item = models.PositiveIntegerField(_("事项"))
    platform = models.PositiveIntegerField(_("平台"), default=0)
    text = models.CharField(_("改进意见"), max_length=600)

    objects = CounterQuerySet.as_manager()

    class Meta:
        verbose_name = _("改进意见")
        verbose_name_plural = _("改进意见")
        indexes = [models.Index(fields=["region", "day"], name="suggestion_region_day")]

    def __str__(self) -> str:
        return self.text[:30]


class Report(models.Model):
    """A monthly, quarterly or yearly report (R5.2) of one region's subtree or one department, as an Excel workbook
    and a PDF under MEDIA_ROOT. One row per (subject, kind, period start): the worker makes the previous period's
    region reports, a supervisor makes any finished period's on demand (regenerating replaces the files).

    Reports name staff members (they are for the management agency), so they are scoped by region only: those who
    supervise the report's region see it; the files are served only by the scoped view insight.views.reports."""

    scope_paths = ScopePaths(region=("region_id",))

    class Kind(models.TextChoices):
        MONTH = "month", _("月报")
        QUARTER = "quarter", _("季报")
        YEAR = "year", _("年报")

    kind = models.CharField(_("报告类型"), max_length=10, choices=Kind.choices)
    period_start = models.DateField(_("期间开始"))
    period_end = models.DateField(_("期间结束"))
    # A department report's region is the department's own (whose supervisors see it).
    region = models.ForeignKey("org.Region", verbose_name=_("行政区划"), on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey(
        "org.Department", verbose_name=_("部门"), null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text=_("空：整个地区（含下级）的报告"),
    )
    title = models.CharField(_("标题"), max_length=300)
    xlsx = models.FileField(_("Excel文件"), upload_to="reports/%Y/%m/", max_length=200)
    pdf = models.FileField(_("PDF文件"), upload_to="reports/%Y/%m/", max_length=200)
    generated_at = models.DateTimeField(_("生成时间"))
    generated_by = models.ForeignKey(
        "accounts.User", verbose_name=_("生成人"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", help_text=_("空：后台定时生成"),
    )

    class Meta:
        verbose_name = _("统计报告")
        verbose_name_plural = _("统计报告")
        ordering = ["-period_start", "region_id", "department_id", "kind"]
        constraints = [
            # Two partial constraints: a NULL department would make rows distinct in one unique index.
            models.UniqueConstraint(fields=["region", "kind", "period_start"], condition=models.Q(department__isnull=True),
                                    name="report_one_per_region_period"),
            models.UniqueConstraint(fields=["department", "kind", "period_start"],
                                    condition=models.Q(department__isnull=False), name="report_one_per_department_period"),
        ]

    def __str__(self) -> str:
        return self.title


from .painpoints.models import PainPointAssignment, PainPointKind, PainPointSnapshot  # noqa: E402,F401  (pain points, R5.1)

# --- 整改与申诉: the cases' figures summed per day and unit (rollups.cases) -------------------------------------------
# The dashboard's 整改与申诉 figures (rectification.figures.STORED) read these instead of the period's cases. A case
# counts on the day (北京时间) it was opened — the period the figures have always used — under the units it is
# routed to now (a transfer moves its part). 当前逾期 depends on today and is counted over the in-hand cases.

CASE_KEYS = ("day", "region", "department", "agency", "platform")
CASE_VALUES = ("cases", "counted", "called_back", "handled", "finished", "on_time", "real_name", "real_name_done",
               "bad_reviews", "appeals", "decided_appeals", "upheld")


class CaseCounter(models.Model):
    day = models.DateField(_("日期"))
    region = models.CharField(_("行政区划代码"), max_length=12)
    department = models.PositiveIntegerField(_("责任部门"))
    agency = models.PositiveIntegerField(_("政务服务机构"), default=0)
    platform = models.PositiveIntegerField(_("平台"), default=0)
    cases = models.IntegerField(default=0)
    counted = models.IntegerField(default=0)
    called_back = models.IntegerField(default=0)
    handled = models.IntegerField(default=0)
    finished = models.IntegerField(default=0)
    on_time = models.IntegerField(default=0)
    real_name = models.IntegerField(default=0)
    real_name_done = models.IntegerField(default=0)
    bad_reviews = models.IntegerField(default=0)
    appeals = models.IntegerField(default=0)
    decided_appeals = models.IntegerField(default=0)
    upheld = models.IntegerField(default=0)

    # The same paths as a case's own (rectification.models.CASE_SCOPE), on the copied columns.
    scope_paths = ScopePaths(region=("region",), department=("department",), agency=("agency",))
    key_fields = CASE_KEYS

    objects = CounterQuerySet.as_manager()

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.day} {self.region} {self.department}: {self.cases}"


class CaseDayCounter(CaseCounter):
    """The 整改与申诉 figures of the cases opened on ``day``, per region, department, hall and platform."""

    class Meta:
        verbose_name = _("每日整改与申诉汇总")
        verbose_name_plural = _("每日整改与申诉汇总")
        constraints = [models.UniqueConstraint(fields=list(CASE_KEYS), name="case_day_counter_key")]
        indexes = [models.Index(fields=["region", "day"], name="case_day_counter_region_day")]


class CaseMonthCounter(CaseCounter):
    """CaseDayCounter summed per month (``day`` = the month's first day)."""

    day = models.DateField(_("月份（该月1日）"))

    class Meta:
        verbose_name = _("每月整改与申诉汇总")
        verbose_name_plural = _("每月整改与申诉汇总")
        constraints = [models.UniqueConstraint(fields=list(CASE_KEYS), name="case_month_counter_key")]
        indexes = [models.Index(fields=["region", "day"], name="case_month_counter_region_day")]


class CaseTally(CaseCounter):
    """One case's part in CaseDayCounter as last counted (each value 0 or 1): what a change to the case takes away
    before it adds the new part, so no writer needs to know what the case looked like before it."""

    case_id = models.BigIntegerField(_("案件"), primary_key=True)

    scope_paths = None

    class Meta:
        verbose_name = _("案件计数")
        verbose_name_plural = _("案件计数")
        indexes = [models.Index(fields=["day"], name="case_tally_day")]


class PendingCount(models.Model):
    """A single submit's counting, not yet added to the counters (PostgreSQL; rollups.pending): what the evaluation
    adds (``counts``: counter key, labels, questionnaire, the 办件's units) and the 参评率 decisions its submit took
    under the 办件's row lock. No evaluator name or phone."""

    evaluation_id = models.BigIntegerField(_("评价"), primary_key=True)
    queued_at = models.DateTimeField(_("写入时间"))
    counts = models.JSONField(_("计数"))
    rated_overall = models.BooleanField(_("办件首条有效评价"), default=False)
    rated_channel = models.BooleanField(_("该渠道首条评价"), default=False)

    class Meta:
        verbose_name = _("待汇总的评价")
        verbose_name_plural = _("待汇总的评价")

    def __str__(self) -> str:
        return f"pending {self.evaluation_id}"
