"""supervision's pages: the fraud findings queue at /work/fraud/ (namespace ``fraud``), 监督查评 surveys at
/work/surveys/ (``surveys``) with their answering page at /s/ (``survey``), and callback sampling at
/work/callbacks/ (``callbacks``)."""

from django.urls import path

from haochaping.supervision.fraud import views as fraud_views
from haochaping.supervision.sampling import views as sampling_views
from haochaping.supervision.surveys import public as survey_public
from haochaping.supervision.surveys import views as survey_views

fraud_urls = ([
    path("", fraud_views.finding_list, name="list"),
    path("<int:finding_id>/", fraud_views.finding_detail, name="detail"),
], "fraud")

survey_urls = ([
    path("", survey_views.survey_list, name="list"),
    path("new/", survey_views.survey_edit, name="new"),
    path("<int:survey_id>/", survey_views.survey_detail, name="detail"),
    path("<int:survey_id>/edit/", survey_views.survey_edit, name="edit"),
    path("<int:survey_id>/launch/", survey_views.survey_launch, name="launch"),
    path("<int:survey_id>/revise/", survey_views.survey_revise, name="revise"),
    path("<int:survey_id>/close/", survey_views.survey_close, name="close"),
    path("<int:survey_id>/send/", survey_views.survey_send, name="send"),
    path("<int:survey_id>/qr.svg", survey_views.survey_qr, name="qr"),
    path("<int:survey_id>/questions/<int:question_id>/remove/", survey_views.question_remove, name="question_remove"),
    path("<int:survey_id>/results/", survey_views.survey_results, name="results"),
], "surveys")

survey_public_urls = ([
    path("t/<str:token>/", survey_public.invited, name="invited"),
    path("<str:key>/", survey_public.open_link, name="open"),
], "survey")

callback_urls = ([
    path("", sampling_views.callback_list, name="list"),
    path("supervision/", sampling_views.supervision_page, name="supervision"),
    path("<int:item_id>/", sampling_views.callback_detail, name="detail"),
], "callbacks")
