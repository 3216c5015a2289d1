"""Online 一事一评 (R3.5): the region's evaluation page that any platform opens with a signed request.

/e/?platform=…&project_no=…&stage=…&return_url=…&ts=…&sig=…[&client=mobile] — see online.py and docs/api.md.
Every check runs before anything is shown or written; after the evaluation the evaluator goes back to return_url
with ``receipt_code`` and ``result=ok``.
"""

from __future__ import annotations

import logging
import time

from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from haochaping.org.models import Platform
from haochaping.records.models import ServiceRecord, Stage

from .. import online
from ..models import Channel
from ..pages import FORM_MAX_AGE, RatingContext, rate

log = logging.getLogger(__name__)


class _Refused(Exception):
    def __init__(self, status: int, title: str, message: str):
        super().__init__(message)
        self.status, self.title, self.message = status, title, message


def _params(request) -> dict:
    return {k: request.GET.get(k, "") for k in request.GET if k in online.REQUIRED + online.OPTIONAL}


def _check(request) -> tuple[Platform, ServiceRecord, dict]:
    params = _params(request)
    missing = [k for k in online.REQUIRED if not params.get(k)]
    if missing:
        raise _Refused(400, "评价请求不完整", f"缺少参数：{'、'.join(missing)}")
    platform = Platform.objects.filter(code=params["platform"], is_active=True).first()
    secret = platform.evaluation_secret.reveal() if platform is not None and platform.evaluation_secret else ""
    if not secret:
        raise _Refused(403, "评价请求无效", "平台（platform）不存在或未开通一事一评")
    if not online.signature_ok(secret, params):
        log.warning("online evaluation refused: bad signature platform=%s", platform.code)
        raise _Refused(403, "评价请求无效", "签名（sig）无效，请返回原页面重新打开评价")
    # The page itself must be opened fresh; its form may be submitted later (the form token limits that).
    max_age = online.MAX_SKEW + (FORM_MAX_AGE if request.method == "POST" else 0)
    for problem in (
        online.ts_problem(params["ts"], time.time(), max_age),
        online.return_url_problem(params["return_url"], online.prefixes(platform.return_url_prefixes)),
    ):
        if problem:
            raise _Refused(403 if problem[0] == "ts" else 400, "评价请求无效", problem[1])
    if params["stage"] not in Stage.values:
        raise _Refused(400, "评价请求无效", "评价环节（stage）应为 accept（受理）或 complete（办结）")
    if params.get("client", "") not in ("", "pc", "mobile"):
        raise _Refused(400, "评价请求无效", "终端类型（client）应为 pc 或 mobile")
    record = (
        ServiceRecord.objects.select_related("item", "window", "staff")
        .by_number(params["project_no"]).filter(platform=platform)
        .first()
    )
    if record is None:
        # Another platform's 办件 reads like a missing one.
        raise _Refused(404, "办件不存在", "该平台没有此办件编号（project_no）的办件")
    return platform, record, params


@never_cache
def evaluate(request):
    try:
        platform, record, params = _check(request)
    except _Refused as exc:
        return render(request, "evaluation/online_error.html", {"title": exc.title, "message": exc.message},
                      status=exc.status)
    return_url = params["return_url"]

    def back(result):
        return HttpResponseRedirect(online.with_query(return_url, receipt_code=result.evaluation.receipt_code, result="ok"))

    ctx = RatingContext(
        record=record,
        stage=params["stage"],
        channel=Channel.MOBILE if params.get("client") == "mobile" else Channel.PC,
        source=f"online:{platform.code}",
        ask_questionnaire=True,
        after_submit=back,
        template="evaluation/online_rate.html",
        extra_context={"platform": platform, "return_url": return_url},
    )
    response = rate(request, ctx)
    # The form's submission ends in a redirect to the platform: CSP form-action must allow its origin.
    response._csp_update = {"form-action": [online.origin(return_url)]}
    return response
