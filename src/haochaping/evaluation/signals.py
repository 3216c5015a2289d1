"""Signals the evaluation app sends inside its writing transaction, so that higher apps (rectification,
insight) react atomically without evaluation importing them (DESIGN.md "Layout").

Receivers of ``evaluation_written`` may return ``{"case_id": ...}``; the first such id goes back to the caller.
A receiver that raises rolls the evaluation back with everything else.

``evaluation_replayed`` is sent when a retried submit (same idempotency key) returns an existing evaluation;
receivers return ``{"case_id": ...}`` for the case that evaluation opened, so the retry gets the first answer.
"""

from django.dispatch import Signal

evaluation_written = Signal(use_caching=True)  # sender=Evaluation, evaluation=<Evaluation>, composed=<bool, may be absent>

# Sent by the single submit (services.submit_evaluation) inside its writing transaction BEFORE the row is written,
# so that what receivers must write with it goes into the same statement (issue 14 item 1). ``evaluation`` has its
# values and, on PostgreSQL, its id already (drawn from the sequence); its ``record`` (the 办件's columns of
# lookups.RECORD_FIELDS) was read under the 办件's row lock, taken by an earlier statement of this transaction, so
# any statement returned here sees every evaluation committed before that lock was granted. ``labels``: its label
# codes. Receivers return a list of statements ``[(sql, params), …]`` that need the evaluation's values, not its
# row: on PostgreSQL they run as data-modifying CTEs of the row's INSERT — one snapshot, none sees the row nor
# another's effects, so no two statements (of any receivers) may change the same row — and on SQLite one after
# the other once the row is in. Then ``evaluation_written`` follows with ``composed=True``: a receiver of both does
# there only what it did not return here. Senders of ``evaluation_written`` alone (importers, tests) send no
# ``composed``: receivers then do everything there, as before.
evaluation_writing = Signal(use_caching=True)  # sender=Evaluation, evaluation=<Evaluation>, labels=<list[str]>
evaluation_replayed = Signal()  # sender=Evaluation, evaluation=<Evaluation>

# The set-based twin of ``evaluation_written`` (evaluation.intake: batch intake, history import): sent once, inside
# the writing transaction, for evaluations just inserted together. Every receiver of ``evaluation_written`` must
# receive this one too and do the same for each evaluation (set-wise, that is the point); receivers may return
# ``{"case_ids": {evaluation pk: case id}}``. The evaluations are plain rows (evaluation.rows.EvaluationRow, no model
# instances: issue 16 item 6): every field of Evaluation as an attribute of the same name, ``pk``,
# ``record.project_no``, ``label_codes``, and ``as_model()`` for a receiver that needs the instance.
evaluations_written = Signal()  # sender=Evaluation, evaluations=<list[EvaluationRow]>

# Sent by the receipt page (views.receipt.progress) to show the evaluator how their bad review is being handled.
# Receivers return None, or {"steps": [{"title": str, "at": datetime | None, "detail": str}, ...],
# "answer": str (the reply to the evaluator), "excluded": bool (no longer counted, e.g. an upheld appeal)}.
# Without a receiver, a bad review shows "差评已转交办理单位核实处理". Read-only: receivers must not write.
receipt_progress = Signal()  # sender=Evaluation, evaluation=<Evaluation>

# Sent inside the transaction that excludes an evaluation from statistics (upheld appeal, confirmed 误评/恶意差评),
# so rollups kept by higher apps change with it or not at all.
evaluation_excluded = Signal()  # sender=Evaluation, evaluation=<Evaluation>, exclusion=<EvaluationExclusion>

# Sent by the receipt page (views.receipt.view) to show where the evaluation stands in the verifiable log (R8.1).
# Receivers return None or {"sealed": bool, "leaf_index": int, "proof_url": str, "script": str (a static path),
# "checkpoints_url": str, "exclusion_index": int | None (the leaf recording that it was set aside)}; the page then
# loads the script, which fetches the proof and verifies it. Read-only.
receipt_log = Signal()  # sender=Evaluation, evaluation=<Evaluation>
