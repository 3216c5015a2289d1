from django.urls import path

from . import views

app_name = "exchange"

urlpatterns = [
    path("", views.operations, name="operations"),
    path("reports/", views.received_reports, name="received_reports"),
    path("reports/<int:report_id>/pdf/", views.received_report_pdf, name="received_report_pdf"),
]
