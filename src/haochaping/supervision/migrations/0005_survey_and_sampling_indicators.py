"""Surveys (0003) and the appraisal (0004) were built side by side; this joins them and adds the two national
indicators that read surveys and callback sampling (appraisal.rules.NATIONAL_DEFAULTS)."""

from django.db import migrations

ADDED = [
    ("SUP-SURVEY", "监督查评问卷得分（0–100）", "supervision", "survey_scores", 1, 60, 100),
    ("SUP-SAMPLING", "回访抽查不一致率（%）", "supervision", "sampling_mismatch_rate", 1, 10, 0),
]


def add_indicators(apps, schema_editor):
    Indicator = apps.get_model("supervision", "Indicator")
    for code, name, dimension, source, weight, floor, target in ADDED:
        Indicator.objects.get_or_create(region=None, code=code, defaults=dict(
            name=name, dimension=dimension, source=source, weight=weight, floor=floor, target=target))


def remove_indicators(apps, schema_editor):
    apps.get_model("supervision", "Indicator").objects.filter(region=None, code__in=[a[0] for a in ADDED]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("supervision", "0003_surveys_sampling"),
        ("supervision", "0004_assessments_appraisal"),
    ]

    operations = [migrations.RunPython(add_indicators, remove_indicators)]
