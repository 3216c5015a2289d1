"""Insight pages: ``urlpatterns`` (namespace ``insight``: dashboards, pain points) mounted at /insight/, and
``report_urls`` (``reports``, R5.2) at /insight/reports/; haochaping/urls.py mounts both."""

from django.urls import path

from .views import analysis, dashboard, dashboard_evaluations, mine, painpoints, reports

app_name = "insight"
urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("evaluations/", dashboard_evaluations.evaluations, name="dashboard_evaluations"),
    path("items/", analysis.items, name="items"),
    path("platforms/", analysis.platforms, name="platforms"),
    path("questionnaire/", analysis.questionnaire, name="questionnaire"),
    path("coverage/", analysis.coverage, name="coverage"),
    path("mine/", mine.mine, name="mine"),
    path("painpoints/", painpoints.painpoints, name="painpoints"),
    path("painpoints/focus-issues/", painpoints.focus_issue, name="focus_issue"),
    path("painpoints/kinds/", painpoints.promote_kind, name="promote_kind"),
]

report_urls = ([
    path("", reports.report_list, name="list"),
    path("<int:report_id>/xlsx/", reports.download, {"fmt": "xlsx"}, name="xlsx"),
    path("<int:report_id>/pdf/", reports.download, {"fmt": "pdf"}, name="pdf"),
], "reports")
