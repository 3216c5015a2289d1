"""Complaint intake and bulletins (0002) were built beside surveys, sampling and the appraisal (0003–0005): this
joins the two lines."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("supervision", "0002_complaints_bulletins"),
        ("supervision", "0005_survey_and_sampling_indicators"),
    ]

    operations = []
