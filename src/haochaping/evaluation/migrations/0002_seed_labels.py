"""Seed the label dictionary with the national (2020) codes listed in REQUIREMENTS.md; administrators add
the rest of their region's dictionary in the admin."""

from django.db import migrations

NATIONAL_LABELS = [
    ("108", "在办事指南之外增加新的审批条件"),
    ("109", "需提供办事指南之外的申报材料"),
    ("110", "无理由超过法定办理时间"),
    ("207", "没有提供材料样本"),
    ("208", "没有提供材料清单"),
    ("209", "未在承诺时间内办结"),
    ("510", "一窗受理一次办结"),
    ("517", "服务热情效率高"),
]


def seed(apps, schema_editor):
    Label = apps.get_model("evaluation", "Label")
    for code, text in NATIONAL_LABELS:
        Label.objects.get_or_create(code=code, defaults={"text": text, "level": int(code[0])})


class Migration(migrations.Migration):
    dependencies = [("evaluation", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
