"""Write the API's OpenAPI document (`make docs` → docs/openapi.json)."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand


def openapi_json() -> str:
    from haochaping.api import api

    # Sorted keys and a trailing newline: the file is committed, so it must be byte-for-byte reproducible.
    return json.dumps(api.get_openapi_schema(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


class Command(BaseCommand):
    help = "把接口的 OpenAPI 文档写入指定文件（JSON）。"

    def add_arguments(self, parser):
        parser.add_argument("path", help="输出文件，如 docs/openapi.json")

    def handle(self, *args, path, **opts):
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(openapi_json(), encoding="utf-8")
        self.stderr.write(f"已写入 {target}")
