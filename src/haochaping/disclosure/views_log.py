"""The verifiable evaluation log on the portal (R8.1): the signed checkpoints as a page and, as open data, the
checkpoints (with the consistency proof from each one's predecessor) and the leaves, so that anyone can check the
log and recount the published figures without this site's help (docs/verifiable-log.md, tools/verify_log.py)."""

from __future__ import annotations

import json

from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from haochaping.core import signing
from haochaping.transparency import proofs
from haochaping.transparency.models import Checkpoint, LogLeaf

from .views import cacheable
from .views_opendata import bad_request as bad_request_page

PAGE_SIZE = 50
LEAF_CHUNK = 5000


def _int_param(request, name: str, default: int | None) -> int | None:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or len(raw) > 18:
        raise ValueError(name)
    return int(raw)


@require_safe
def log(request):
    page = Paginator(Checkpoint.objects.order_by("-tree_size"), PAGE_SIZE).get_page(request.GET.get("page"))
    return cacheable(render(request, "disclosure/log.html", {
        "page": page, "latest": proofs.latest(), "public_key": signing.node_public_key(),
    }))


def _checkpoint_json(cp: Checkpoint) -> dict:
    d = proofs.checkpoint_dict(cp)
    d["signed_at"] = d["text"].split("\n")[4]
    return d


@require_safe
def checkpoints_file(request):
    try:
        after = _int_param(request, "after", 0)
    except ValueError:
        return bad_request_page(request, "参数 after（树大小）应为非负整数。")
    rows = Checkpoint.objects.filter(tree_size__gt=after).order_by("tree_size")
    document = {"origin": proofs.latest().origin if proofs.latest() else "", "public_key": signing.node_public_key(),
                "checkpoints": [_checkpoint_json(cp) for cp in rows]}
    response = cacheable(StreamingHttpResponse([json.dumps(document, ensure_ascii=False, indent=1)],
                                               content_type="application/json; charset=utf-8"), shared=True)
    response["Content-Disposition"] = 'attachment; filename="log-checkpoints.json"'
    return response


@require_safe
def leaves_file(request):
    latest = proofs.latest()
    size = latest.tree_size if latest else 0
    try:
        start = _int_param(request, "start", 0)
        end = _int_param(request, "end", size)
    except ValueError as err:
        return bad_request_page(request, f"参数 {err.args[0]}（叶子序号）应为非负整数。")
    if end > size:
        return bad_request_page(request, f"参数 end（叶子序号）不能超出最新检查点的树大小 {size}。")
    if start > end:
        return bad_request_page(request, "参数 start 不能大于 end。")

    def lines():
        at = start
        while at < end:
            bodies = list(LogLeaf.objects.filter(index__gte=at, index__lt=min(end, at + LEAF_CHUNK))
                          .order_by("index").values_list("body", flat=True))
            yield "".join(f"{body}\n" for body in bodies)
            at += LEAF_CHUNK

    response = cacheable(StreamingHttpResponse(lines(), content_type="application/jsonl; charset=utf-8"), shared=True)
    response["Content-Disposition"] = f'attachment; filename="log-leaves-{start}-{end}.jsonl"'
    return response
