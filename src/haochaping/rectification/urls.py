"""Rectification's pages, in four URL namespaces that haochaping/urls.py mounts:

- ``urlpatterns`` (namespace ``rectification``) at /work/: the handlers' queue, case pages, supervisors' views;
- ``appeal_urls`` (``appeals``) at /work/appeals/: 申诉 pages;
- ``feedback_urls`` (``feedback``) at /r/feedback/: the evaluator's answer on how their bad review was handled;
- ``reply_urls`` (``reply``) at /a/: the link in the answer SMS, /a/<token>/ (reply_links).
"""

from django.urls import path

from haochaping.rectification.views import appeals, case, complaints, feedback, queue, supervision

app_name = "rectification"
urlpatterns = [
    path("", queue.queue, name="queue"),
    path("cases/<int:case_id>/", case.case_detail, name="case"),
    path("cases/<int:case_id>/steps/<slug:step>/", case.case_step, name="step"),
    path("cases/<int:case_id>/contact/", case.contact, name="contact"),
    path("cases/<int:case_id>/files/<int:file_id>/", case.attachment, name="attachment"),
    path("supervision/", supervision.case_list, name="supervision"),
    path("supervision/cases.csv", supervision.case_csv, name="supervision_csv"),
    path("supervision/figures/", supervision.figures, name="figures"),
    path("supervision/notices/", supervision.notices, name="notices"),
    path("complaints/new/", complaints.new_complaint, name="complaint_new"),
]

appeal_urls = ([
    path("", appeals.queue, name="queue"),
    path("mine/", appeals.mine, name="mine"),
    path("new/<int:case_id>/", appeals.new, name="new"),
    path("<int:appeal_id>/", appeals.detail, name="detail"),
    path("<int:appeal_id>/files/<int:file_id>/", appeals.evidence, name="evidence"),
], "appeals")

feedback_urls = ([
    path("answer/", feedback.answer, name="answer"),
], "feedback")

reply_urls = ([
    path("<str:token>/", feedback.reply_link, name="open"),
], "reply")
