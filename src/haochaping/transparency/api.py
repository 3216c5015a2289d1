"""The verifiable log's API (/api/v1/log): checkpoints, leaves, inclusion and consistency proofs. Public: the
log holds no personal data (docs/verifiable-log.md). The receipt code is a bearer secret, so the proof by receipt
is a POST (the code in the body, never in a URL)."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Query, Router

from haochaping.core.problems import PROBLEM_CONTENT_TYPE
from haochaping.core.schemas import InputSchema, QuerySchema

from . import proofs

router = Router(tags=["可验证评价日志"])

# A query (not a path) can name a checkpoint that does not exist: these operations say so themselves.
NOT_PUBLISHED = {"responses": {404: {
    "description": "未找到：尚无检查点、检查点不存在或超出最新检查点，field 指出参数",
    "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
}}}

MAX_SIZE = 2**62  # beyond any log; keeps numbers inside the database's 64-bit integers


class CheckpointOut(QuerySchema):
    tree_size: int = Field(description="树大小：检查点封存的叶子数")
    root_hash: str = Field(description="默克尔树根（SM3，十六进制）")
    signed_at: datetime = Field(description="封存时间")
    origin: str = Field(description="日志标识（本节点地址）")
    public_key: str = Field(description="签名所用 SM2 公钥（十六进制 x||y）")
    signature: str = Field(description="SM2 签名（SM3 杂凑，十六进制 r||s），签名内容为 text")
    text: str = Field(description="被签名的树头文本（UTF-8）")
    previous_size: int = Field(description="上一检查点的树大小；第一个检查点为 0")
    consistency: list[str] = Field(description="与上一检查点的一致性证明（RFC 9162）")


class InclusionOut(QuerySchema):
    leaf_index: int
    leaf: str = Field(description="叶子内容（规范 JSON 文本，按 UTF-8 计算杂凑）")
    kind: str = Field(description="evaluation（评价）或 exclusion（不计入统计）")
    leaf_hash: str = Field(description="SM3(0x00 || 叶子内容)")
    tree_size: int
    audit_path: list[str] = Field(description="包含证明（RFC 9162 审计路径，自叶子向上）")
    checkpoint: CheckpointOut


class ConsistencyOut(QuerySchema):
    first: CheckpointOut
    second: CheckpointOut
    consistency_path: list[str] = Field(description="一致性证明（RFC 9162）")


class LeafOut(QuerySchema):
    index: int
    kind: str
    leaf: str


class CheckpointQuery(QuerySchema):
    limit: int = Field(20, ge=1, le=100, description="条数（1–100）")
    before: int | None = Field(None, ge=1, le=MAX_SIZE, description="只列树大小小于此值的检查点（翻页）")


class InclusionQuery(QuerySchema):
    tree_size: int | None = Field(None, ge=1, le=MAX_SIZE, description="检查点的树大小；不填为最新检查点")


class ConsistencyQuery(QuerySchema):
    first: int = Field(ge=1, le=MAX_SIZE, description="较早检查点的树大小")
    second: int | None = Field(None, ge=1, le=MAX_SIZE, description="较晚检查点的树大小；不填为最新检查点")


class LeavesQuery(QuerySchema):
    start: int = Field(0, ge=0, le=MAX_SIZE, description="第一个叶子的序号")
    limit: int = Field(proofs.MAX_LEAVES, ge=1, le=proofs.MAX_LEAVES, description=f"条数（1–{proofs.MAX_LEAVES}）")


class ReceiptProofIn(InputSchema):
    receipt_code: str = Field(min_length=1, max_length=20, description="评价回执码")
    tree_size: int | None = Field(None, ge=1, le=MAX_SIZE, description="检查点的树大小；不填为最新检查点")


@router.get("/checkpoints", response=list[CheckpointOut], auth=None, summary="已公布的检查点",
            description="按树大小从大到小；用 before 翻页。")
def list_checkpoints(request, query: Query[CheckpointQuery]):
    qs = proofs.Checkpoint.objects.order_by("-tree_size")
    if query.before is not None:
        qs = qs.filter(tree_size__lt=query.before)
    return [proofs.checkpoint_dict(cp) for cp in qs[: query.limit]]


@router.get("/checkpoints/latest", response=CheckpointOut, auth=None, summary="最新检查点",
            openapi_extra=NOT_PUBLISHED)
def latest_checkpoint(request):
    return proofs.checkpoint_dict(proofs.checkpoint(None))


@router.get("/checkpoints/{int:tree_size}", response=CheckpointOut, auth=None, summary="某一树大小的检查点")
def get_checkpoint(request, tree_size: int):
    if tree_size > MAX_SIZE:
        return proofs.checkpoint_dict(proofs.checkpoint(MAX_SIZE))
    return proofs.checkpoint_dict(proofs.checkpoint(tree_size))


@router.get("/inclusion-proofs/{int:leaf_index}", response=InclusionOut, auth=None, summary="叶子的包含证明",
            url_name="log_inclusion_proof")
def inclusion_proof(request, leaf_index: int, query: Query[InclusionQuery]):
    return proofs.inclusion(min(leaf_index, MAX_SIZE), query.tree_size).as_dict()


@router.post("/inclusion-proofs", response=InclusionOut, auth=None, summary="凭评价回执码取包含证明",
             description="回执码放在请求体中（不放在地址里）。未知回执码、尚未封存、检查点不存在均以 problem details 回答。")
def inclusion_proof_by_receipt(request, payload: ReceiptProofIn):
    return proofs.inclusion_by_receipt(payload.receipt_code, payload.tree_size).as_dict()


@router.get("/consistency-proofs", response=ConsistencyOut, auth=None, summary="两个检查点之间的一致性证明",
            openapi_extra=NOT_PUBLISHED)
def consistency_proof(request, query: Query[ConsistencyQuery]):
    return proofs.consistency(query.first, query.second)


@router.get("/leaves", response=list[LeafOut], auth=None, summary="日志叶子（公开字段）",
            description="最新检查点以内的叶子，按序号；每个叶子是规范 JSON 文本。")
def list_leaves(request, query: Query[LeavesQuery]):
    return [{"index": leaf.index, "kind": leaf.kind, "leaf": leaf.body} for leaf in proofs.leaves(query.start, query.limit)]
