"""docs/openapi.json is what `make docs` (haochaping export_openapi) produces from the code today."""

from pathlib import Path

from django.core.management import call_command

from haochaping.demo.management.commands.export_openapi import openapi_json

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_committed_openapi_document_is_current():
    committed = (DOCS / "openapi.json").read_text(encoding="utf-8")
    assert committed == openapi_json(), "docs/openapi.json is stale: run `make docs`"


def test_export_command_writes_the_document(tmp_path):
    target = tmp_path / "out" / "openapi.json"
    call_command("export_openapi", str(target))
    text = target.read_text(encoding="utf-8")
    assert text == openapi_json()
    assert '"/api/v1/evaluations"' in text and "好差评系统接口" in text
