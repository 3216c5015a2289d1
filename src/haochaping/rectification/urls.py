"""The rectification workbench (handlers' queue, case pages, supervisors' views), mounted at /work/."""

from django.urls import path

from . import views_case, views_complaints, views_queue, views_supervision

app_name = "rectification"
urlpatterns = [
    path("", views_queue.queue, name="queue"),
    path("cases/<int:case_id>/", views_case.case_detail, name="case"),
    path("cases/<int:case_id>/steps/<slug:step>/", views_case.case_step, name="step"),
    path("cases/<int:case_id>/files/<int:file_id>/", views_case.attachment, name="attachment"),
    path("supervision/", views_supervision.case_list, name="supervision"),
    path("supervision/cases.csv", views_supervision.case_csv, name="supervision_csv"),
    path("supervision/figures/", views_supervision.figures, name="figures"),
    path("supervision/notices/", views_supervision.notices, name="notices"),
    path("complaints/new/", views_complaints.new_complaint, name="complaint_new"),
]
