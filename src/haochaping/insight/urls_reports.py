"""Reports (R5.2), mounted at /insight/reports/."""

from django.urls import path

from . import views_reports

app_name = "reports"
urlpatterns = [
    path("", views_reports.report_list, name="list"),
    path("<int:report_id>/xlsx/", views_reports.download, {"fmt": "xlsx"}, name="xlsx"),
    path("<int:report_id>/pdf/", views_reports.download, {"fmt": "pdf"}, name="pdf"),
]
