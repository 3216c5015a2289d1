"""Re-encrypt personal data under the current SM4 key, while the site keeps running.

``HAOCHAPING_SM4_KEY`` lists ``id:hex`` keys, the first being current (core/crypto.py). After the operator puts a
new key first (keeping the old one so existing rows stay readable) and restarts every process, this command walks
every model that has a PersonalDataField (found through the app registry) in primary-key order and rewrites each
value whose key id is not the current one. Each batch is its own short transaction; on PostgreSQL rows are locked
with ``SELECT … FOR UPDATE SKIP LOCKED`` so requests that write those rows are never made to wait, and a locked row
is skipped and counted (run the command again for it). Rows already under the current key are left alone, so an
interrupted run simply resumes when started again. Blind indexes use their own key and do not change.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connections, router, transaction

from haochaping.core import crypto
from haochaping.core.fields import PersonalDataField


@dataclass
class Tally:
    rows_scanned: int = 0
    rows_rotated: int = 0
    values_rotated: int = 0
    rows_locked: int = 0
    undecryptable: dict[int, int] = field(default_factory=dict)  # key id -> values


def personal_data_models() -> list[tuple[type, list[PersonalDataField]]]:
    """Every concrete, managed model with at least one PersonalDataField, and those fields."""
    found = []
    for model in apps.get_models():
        opts = model._meta
        if opts.proxy or not opts.managed or opts.swapped:
            continue
        fields = [f for f in opts.local_concrete_fields if isinstance(f, PersonalDataField)]
        if fields:
            found.append((model, fields))
    return sorted(found, key=lambda mf: mf[0]._meta.label)


def _stale(blob, current: int) -> bool:
    return blob is not None and crypto.key_id_of(blob) != current


def rotate_model(model, fields, *, batch_size: int, dry_run: bool, current: int) -> Tally:
    tally = Tally()
    manager = model._base_manager
    db = router.db_for_write(model)
    can_skip_locked = connections[db].features.has_select_for_update_skip_locked
    attnames = [f.attname for f in fields]
    last_pk = None
    while True:
        # Page by primary key without locks; the rows to change are then locked and re-read in a short transaction.
        page = manager.using(db).order_by("pk")
        if last_pk is not None:
            page = page.filter(pk__gt=last_pk)
        pks = list(page.values_list("pk", flat=True)[:batch_size])
        if not pks:
            return tally
        last_pk = pks[-1]
        tally.rows_scanned += len(pks)
        with transaction.atomic(using=db):
            rows = manager.using(db).filter(pk__in=pks).order_by("pk")
            if can_skip_locked and not dry_run:
                rows = rows.select_for_update(skip_locked=True)
            seen = 0
            for pk, *values in rows.values_list("pk", *attnames):
                seen += 1
                changes = {}
                for attname, sealed in zip(attnames, values, strict=True):
                    blob = sealed.blob if sealed is not None else None
                    if not _stale(blob, current):
                        continue
                    try:
                        clear = crypto.sm4_decrypt(blob)
                    except crypto.DecryptionError:
                        kid = crypto.key_id_of(blob)
                        tally.undecryptable[kid] = tally.undecryptable.get(kid, 0) + 1
                        continue
                    changes[attname] = crypto.sm4_encrypt(clear)
                if not changes:
                    continue
                tally.rows_rotated += 1
                tally.values_rotated += len(changes)
                if not dry_run:
                    # update() rather than save(): no signals, no auto_now, and immutable rows (evaluations) are
                    # only re-encrypted, never changed in content.
                    manager.using(db).filter(pk=pk).update(**changes)
            tally.rows_locked += len(pks) - seen  # locked by a running request (or deleted meanwhile)


class Command(BaseCommand):
    help = (
        "将个人信息（姓名、证件号码、手机号等）用当前SM4密钥重新加密。先把新密钥放在 HAOCHAPING_SM4_KEY 的第一位并保留旧密钥、"
        "重启所有进程，再运行本命令；完成后即可从设置中删除旧密钥。可中断后重新运行，网站无需停机。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=1000, help="每个事务处理的行数（默认1000）")
        parser.add_argument("--dry-run", action="store_true", help="只统计需要重新加密的数量，不做修改")

    def handle(self, *args, batch_size: int, dry_run: bool, **opts):
        if batch_size < 1:
            raise CommandError("--batch-size 必须是正整数")
        crypto.reset_key_cache()  # read the key list as configured now
        current = crypto.current_key_id()
        verb = "需重新加密" if dry_run else "已重新加密"
        self.stdout.write(f"当前密钥编号：{current}{'（试运行，不修改数据）' if dry_run else ''}")
        total_values = total_locked = 0
        undecryptable: dict[int, int] = {}
        for model, fields in personal_data_models():
            tally = rotate_model(model, fields, batch_size=batch_size, dry_run=dry_run, current=current)
            total_values += tally.values_rotated
            total_locked += tally.rows_locked
            for kid, n in tally.undecryptable.items():
                undecryptable[kid] = undecryptable.get(kid, 0) + n
            line = (
                f"{model._meta.label}（{model._meta.verbose_name}）：检查 {tally.rows_scanned} 行，"
                f"{verb} {tally.rows_rotated} 行 {tally.values_rotated} 个值"
            )
            if tally.rows_locked:
                line += f"，{tally.rows_locked} 行正被其他操作锁定而跳过"
            if tally.undecryptable:
                line += f"，{sum(tally.undecryptable.values())} 个值无法解密"
            self.stdout.write(line)
        if undecryptable:
            ids = "、".join(str(k) for k in sorted(undecryptable))
            raise CommandError(
                f"有 {sum(undecryptable.values())} 个值无法解密（密钥编号 {ids}）：请在 HAOCHAPING_SM4_KEY 中保留这些旧密钥后重新运行"
            )
        if dry_run:
            self.stdout.write(f"合计{verb} {total_values} 个值。")
        elif total_locked:
            self.stdout.write(self.style.WARNING(f"有 {total_locked} 行被跳过，请再次运行本命令；在此之前不要删除旧密钥。"))
        else:
            self.stdout.write(self.style.SUCCESS(
                f"完成：合计{verb} {total_values} 个值。全部个人信息已使用密钥 {current} 加密，可以从 HAOCHAPING_SM4_KEY 中删除旧密钥。"
            ))
