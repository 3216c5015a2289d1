"""Writing pain-point data: classifying bad reviews not classified yet (the worker's periodic task) and promoting an
emerging topic into the taxonomy (a supervisor's action). One transaction per batch / per promotion."""

from __future__ import annotations

import re

import numpy as np
from django.db import transaction
from django.utils.translation import gettext as _

from haochaping.core.models import AuditEntry
from haochaping.core.problems import invalid

from . import classify
from .kinds import current_version, promoted_kinds  # noqa: F401  (read here by the pages and the worker)
from .models import PainPointAssignment, PainPointKind
from .taxonomy import BY_CODE, NEUTRAL_LEVEL

BATCH = 200
MAX_EXAMPLES = 20
_CODE = re.compile(r"[a-z][a-z0-9-]{1,39}")


def pending(version: str):
    """Countable bad and 基本满意 reviews with a comment and no assignment of ``version`` (a 基本满意 comment may
    still report a problem: the pages show those beside the problem's bad reviews)."""
    from django.db.models import Q

    from haochaping.evaluation.models import Evaluation

    return (Evaluation.objects.countable().filter(Q(is_bad=True) | Q(level=NEUTRAL_LEVEL)).exclude(comment="")
            .exclude(pain_point__version=version))


def assign_pending(limit: int = 5000) -> int:
    """Classify up to ``limit`` bad reviews not classified by the current classifier; returns how many."""
    from haochaping.evaluation.models import Evaluation, Label

    extra = promoted_kinds()
    version = current_version(extra)
    ids = list(pending(version).order_by("-pk").values_list("pk", flat=True)[:limit])
    if not ids:
        return 0
    clf = classify.classifier(extra)
    label_texts = dict(Label.objects.values_list("code", "text"))
    done = 0
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        rows = list(Evaluation.objects.filter(pk__in=chunk).order_by("pk").values_list("pk", "comment"))
        labels: dict[int, list[str]] = {}
        for eid, code in Evaluation.labels.through.objects.filter(evaluation_id__in=chunk).values_list(
                "evaluation_id", "label_id"):
            labels.setdefault(eid, []).append(code)
        # Comments repeat (and so do label choices): each distinct pair is classified once.
        keys = [(" ".join(c.split()), tuple(sorted(labels.get(pk, ())))) for pk, c in rows]
        distinct = list(dict.fromkeys(keys))
        assignments, vectors = clf.classify([c for c, _l in distinct], [lab for _c, lab in distinct], label_texts)
        at = {key: i for i, key in enumerate(distinct)}
        objs = [
            PainPointAssignment(evaluation_id=pk, kind=assignments[at[key]].code,
                                confidence=assignments[at[key]].confidence, version=version,
                                vector=vectors[at[key]].astype(np.float16).tobytes())
            for (pk, _c), key in zip(rows, keys, strict=True)
        ]
        with transaction.atomic():
            PainPointAssignment.objects.filter(evaluation_id__in=[o.evaluation_id for o in objs]).delete()
            PainPointAssignment.objects.bulk_create(objs)
        done += len(objs)
    return done


def promote_topic(*, code: str, name: str, definition: str, examples: list[str], actor) -> PainPointKind:
    """Add a problem kind to the taxonomy from an emerging topic (a supervisor's action). Every bad review is then
    classified again by the worker, with the new kind among the candidates."""
    from haochaping.rectification.services.common import actor_name
    from haochaping.rectification.views.common import is_supervisor

    if actor is None or not actor.is_active or not (actor.is_superuser or is_supervisor(actor)):
        raise invalid(_("只有监督人员可以新增问题类型"), "code")
    code = (code or "").strip().lower()
    name = (name or "").strip()
    if not _CODE.fullmatch(code):
        raise invalid(_("问题类型代码须为2至40个小写字母、数字或连字符，以字母开头"), "code")
    if code in BY_CODE or PainPointKind.objects.filter(code=code).exists():
        raise invalid(_("问题类型代码已存在"), "code")
    if not name or len(name) > 100:
        raise invalid(_("请填写问题类型名称（不超过100字）"), "name")
    if PainPointKind.objects.filter(name=name).exists() or name in {k.name for k in BY_CODE.values()}:
        raise invalid(_("问题类型名称已存在"), "name")
    examples = [e.strip() for e in examples if e and e.strip()][:MAX_EXAMPLES]
    if len(examples) < 2:
        raise invalid(_("请至少提供两条示例表述"), "examples")
    with transaction.atomic():
        kind = PainPointKind.objects.create(code=code, name=name, definition=(definition or "").strip()[:2000],
                                            examples="\n".join(examples), created_by=actor_name(actor))
        AuditEntry.objects.create(actor=actor_name(actor), action="painpoints.kind.promote",
                                  object_type="insight.PainPointKind", object_id=str(kind.pk),
                                  data={"code": code, "name": name, "examples": len(examples)})
    return kind


# --- snapshots of the default view (issue 14) ----------------------------------------------------------------

MAX_SNAPSHOT_SCOPES = 200  # region scopes the worker keeps a snapshot for, broadest first; the rest stay live


def snapshot_scopes() -> list[str]:
    """"*" (everything) and the region prefix of every active supervisor with a region — the whole-region scopes
    someone actually opens the page with — broadest first, at most :data:`MAX_SNAPSHOT_SCOPES`."""
    from haochaping.accounts.models import User
    from haochaping.accounts.roles import Role
    from haochaping.org.rules import region_prefix

    from .snapshots import EVERYTHING_SCOPE

    regions = (User.objects.filter(is_active=True, role=Role.SUPERVISOR, region__isnull=False)
               .values_list("region_id", flat=True).distinct())
    prefixes = sorted({region_prefix(code) for code in regions if code}, key=lambda p: (len(p), p))
    return [EVERYTHING_SCOPE, *prefixes[:MAX_SNAPSHOT_SCOPES]]


def store_snapshot(scope_key: str, period, *, now=None):
    """Analyse ``scope_key``'s bad reviews of ``period`` now and store the result (replacing an older one of the same
    scope, period and version); returns the stored :class:`.snapshots.Snapshot`."""
    from django.db import IntegrityError
    from django.utils import timezone

    from . import analysis
    from .choices import item_and_unit_choices, regions_of
    from .models import PainPointSnapshot
    from .snapshots import ScopeViewer, Snapshot, dump, version

    viewer = ScopeViewer(scope_key)
    current = version()  # before reading: a kind promoted meanwhile leaves this snapshot under the older version
    result = analysis(viewer, period)
    items, units = item_and_unit_choices(viewer, period)
    regions = regions_of(viewer, period)
    computed_at = now or timezone.now()
    data, ids = dump(result, items, units, regions)
    key = {"scope": scope_key, "period_start": period.start, "period_end": period.end, "version": current}
    try:
        with transaction.atomic():
            PainPointSnapshot.objects.update_or_create(**key, defaults={"computed_at": computed_at, "result": data,
                                                                        "ids": ids})
    except IntegrityError:  # another process stored the same snapshot at the same moment: theirs is as good
        pass
    return Snapshot(result, items, units, regions, computed_at)


def build_snapshots(today=None) -> int:
    """The worker's task: the default period's snapshot of every scope in :func:`snapshot_scopes`; snapshots of
    other periods or versions are deleted. Returns how many were stored."""
    from .models import PainPointSnapshot
    from .snapshots import default_period, version

    period = default_period(today)
    scopes = snapshot_scopes()
    for key in scopes:
        store_snapshot(key, period)
    (PainPointSnapshot.objects.exclude(period_start=period.start, period_end=period.end, version=version())
     .delete())
    return len(scopes)


def snapshot_for(actor, period):
    """The snapshot the page shows ``actor`` for ``period``: the stored one, or — when none is stored yet for a
    whole-region scope (a new day before the worker's next run, a new supervisor's region) — computed now and
    stored. None when ``actor``'s view is not served from snapshots (the live path)."""
    from .snapshots import read, scope_of

    key = scope_of(actor)
    if key is None:
        return None
    return read(actor, period) or store_snapshot(key, period)
