"""bench/ingest.py's workload: the bench database's seed (an organisation, completed 办件 spread over N units, an
API key) and the evaluation bodies submitted to it. The seed runs in a Django subprocess
(``python bench/ingest_workload.py _seed COUNT UNITS``) so the benchmark process itself never sets Django up."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/ingest_workload.py` puts bench/, not the checkout, on the path
    sys.path.insert(0, str(ROOT))

from bench.common import _django_env  # noqa: E402 - after the path fix above

PROJECT_PREFIX = "BENCH"


def seed(database_url: str, count: int, units: int = 1) -> str:
    """Seed org data, ``count`` completed 办件 over ``units`` departments and an API key in a Django subprocess;
    returns the key."""
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "_seed", str(count), str(units)],
        env=_django_env(database_url), check=True, timeout=300, cwd=ROOT, capture_output=True, text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])["api_key"]


def _seed_main(count: int, unit_count: int = 1) -> None:
    """Runs inside the seed subprocess, with Django set up on the bench database."""
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from datetime import timedelta

    from django.utils import timezone
    from tests import factories

    from haochaping.accounts.models import Scope
    from haochaping.accounts.services import create_api_key
    from haochaping.org.models import Staff, Window
    from haochaping.records.models import ServiceRecord

    org = factories.make_org()
    item = factories.make_item(org)
    # (department, window, staff) of each unit: the first is the org's own; with --units N the 办件 go round robin
    # over N, so concurrent submits share fewer counter rows (a unit's day and month rows: rollups.wide).
    units = [(org.department, org.window, org.staff)]
    for n in range(1, unit_count):
        dept = factories.department(org.county, name=f"性能测试部门{n}")
        window = Window.objects.create(agency=org.agency, code=f"B{n:03d}", name=f"性能测试窗口{n}", department=dept)
        units.append((dept, window, Staff.objects.create(staff_no=f"BENCH{n:05d}", name=f"工作人员{n}",
                                                         agency=org.agency, department=dept, window=window)))
    completed_at = timezone.now() - timedelta(hours=1)
    accepted_at = completed_at - timedelta(hours=1)
    records = [
        ServiceRecord(
            project_no=f"{PROJECT_PREFIX}{i:08d}",
            item=item,
            region=org.county,
            department=units[i % len(units)][0],
            agency=org.agency,
            window=units[i % len(units)][1],
            staff=units[i % len(units)][2],
            applicant_type=1,
            applicant_name="王小二",
            applicant_phone="13912345678",
            record_type="promised",
            promised_days=5,
            status=3,
            accepted_at=accepted_at,
            completed_at=completed_at,
            push_hash="bench",
            source="bench",
        )
        for i in range(count)
    ]
    ServiceRecord.objects.bulk_create(records, batch_size=1000)
    # The benchmark measures throughput, so its key is not throttled (the default is 600 requests a minute).
    _key, secret = create_api_key(name="性能测试", scopes=[Scope.EVALUATIONS_WRITE, Scope.STATS_READ], rate_limit_per_minute=2_000_000_000)
    print(json.dumps({"api_key": secret}))


def make_payloads(count: int, seed: int, offset: int = 0) -> list[dict]:
    """COUNT evaluation bodies, one per seeded 办件 from ``offset``: mostly good, exactly every 50th a 差评 (2 %)."""
    rng = random.Random(seed)
    # The channels a platform's API key may claim (kiosk is an activated 评价器's alone: docs/api.md).
    channels = ["qr", "mobile", "pc", "terminal", "sms"]
    run = uuid.uuid4().hex[:8]
    bodies = []
    for i in range(offset, offset + count):
        body = {
            "idempotency_key": f"bench-{run}-{i:08d}",
            "project_no": f"{PROJECT_PREFIX}{i:08d}",
            "stage": "complete",
            "channel": channels[i % len(channels)],
        }
        if i % 50 == 25:
            body.update(level=2, labels=["209"], comment="等了很久，超过了承诺时间")
        else:
            body["level"] = rng.choices([5, 4, 3], weights=[70, 22, 8])[0]
            if rng.random() < 0.3:
                body["comment"] = "服务热情，办理迅速" * rng.randint(1, 4)
        if rng.random() < 0.2:
            body["questionnaire"] = {"guide_clear": True, "process_convenient": rng.random() < 0.9}
        if rng.random() < 0.2:
            body["evaluator"] = {"phone": f"139{rng.randrange(10**8):08d}"}
        bodies.append(body)
    return bodies


if __name__ == "__main__" and sys.argv[1:2] == ["_seed"]:  # seed()'s Django subprocess
    _seed_main(int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 1)
