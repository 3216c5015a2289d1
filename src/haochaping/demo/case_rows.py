"""Writing the demo's cases (demo.cases plays their lives): bulk inserts in dependency order."""

from __future__ import annotations

from collections import Counter
from types import SimpleNamespace

from haochaping.core.bulk import Inserter
from haochaping.evaluation.models import EvaluationExclusion
from haochaping.org.models import ManagementAgency
from haochaping.rectification.models import (
    Appeal,
    CaseNotice,
    CaseTransition,
    LedgerEntry,
    LedgerProgress,
    RectificationCase,
)

from .common import SOURCE


def save(plans: list, summary) -> None:
    """Inserts in dependency order: cases, then what refers to them. The big tables (cases, steps, progress,
    notices) go through core.bulk's executemany Inserter; the ORM's per-row cost would dominate."""
    for plan in plans:
        plan.case.state = plan.steps[-1][3]
    Inserter(RectificationCase).insert([p.case for p in plans])
    ids = dict(RectificationCase.objects.filter(evaluation__source=SOURCE).values_list("evaluation_id", "pk"))
    for p in plans:
        p.case.pk = ids[p.case.evaluation_id]
    Inserter(CaseTransition).insert([
        SimpleNamespace(case_id=p.case.pk, at=when, actor_id=actor, action=action, from_state=frm, to_state=to,
                        note=str(note))  # labels are lazy strings
        for p in plans for when, action, frm, to, actor, note in p.steps])
    with_ledger = [p for p in plans if p.ledger is not None]
    for p in with_ledger:
        p.ledger.case_id = p.case.pk
    LedgerEntry.objects.bulk_create([p.ledger for p in with_ledger], batch_size=1000)
    Inserter(LedgerProgress).insert([SimpleNamespace(entry_id=p.ledger.pk, at=when, actor_id=actor, note=note)
                                     for p in with_ledger for when, actor, note in p.progress])
    with_appeal = [p for p in plans if p.appeal is not None]
    for p in with_appeal:
        p.appeal.case_id = p.case.pk
    Appeal.objects.bulk_create([p.appeal for p in with_appeal], batch_size=1000)
    regions = {p.case.region_id for p in plans}
    above = {r: _parent(r) for r in regions}
    agencies = dict(ManagementAgency.objects.filter(region_id__in=regions | set(above.values())).values_list("region_id", "pk"))
    notices = []
    for p in plans:
        for kind, deadline, due, when, where in p.notices:
            region = above[p.case.region_id] if where == "above" else p.case.region_id
            notices.append(SimpleNamespace(case_id=p.case.pk, kind=kind, deadline=deadline, due=due, created_at=when,
                                           agency_id=agencies.get(region) or agencies.get(p.case.region_id)))
    Inserter(CaseNotice).insert(notices)
    exclusions = []
    for p in plans:
        if p.exclusion is None:
            continue
        reason, source, when, actor = p.exclusion
        ref = p.appeal.pk if source == "appeal" else p.case.pk
        exclusions.append(EvaluationExclusion(evaluation_id=p.case.evaluation_id, reason=reason, source=f"{source}:{ref}",
                                              actor_id=actor, at=when))
    EvaluationExclusion.objects.bulk_create(exclusions, batch_size=1000)
    summary.cases = len(plans)
    summary.states = Counter(p.case.state for p in plans)
    summary.escalated = sum(p.case.escalated_at is not None for p in plans)
    summary.appeals = Counter(p.appeal.state for p in with_appeal)
    summary.excluded = len(exclusions)


def _parent(code: str) -> str:
    from haochaping.org.policy import ancestor_codes

    chain = ancestor_codes(code)
    return chain[1] if len(chain) > 1 else code
