"""supervision's pages: the fraud findings queue at /work/fraud/ (namespace ``fraud``), 监督查评 surveys at
/work/surveys/ (``surveys``) with their answering page at /s/ (``survey``), callback sampling at
/work/callbacks/ (``callbacks``), third-party assessments at /work/assessments/ (``assessments``), the appraisal
at /work/appraisal/ (``appraisal``), 综合点评 intake at /work/intake/ (``intake``) and bulletins at
/work/bulletins/ (``bulletins``)."""

from django.urls import path

from haochaping.supervision.appraisal import views as appraisal_views
from haochaping.supervision.assessments import views as assessment_views
from haochaping.supervision.bulletins import views as bulletin_views
from haochaping.supervision.complaints import views as complaint_views
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
assessment_urls = ([
    path("", assessment_views.overview, name="overview"),
    path("commissions/new/", assessment_views.commission_new, name="commission_new"),
    path("commissions/<int:commission_id>/", assessment_views.commission_detail, name="commission"),
    path("commissions/<int:commission_id>/submit/", assessment_views.submit, name="submit"),
    path("<int:assessment_id>/", assessment_views.detail, name="detail"),
    path("<int:assessment_id>/report/", assessment_views.report, name="report"),
    path("<int:assessment_id>/files/<int:file_id>/", assessment_views.evidence, name="evidence"),
], "assessments")

appraisal_urls = ([
    path("", appraisal_views.appraisal_list, name="list"),
    path("indicators/", appraisal_views.indicator_list, name="indicators"),
    path("manual/", appraisal_views.manual_score, name="manual"),
    path("<int:appraisal_id>/", appraisal_views.appraisal_detail, name="detail"),
], "appraisal")
intake_urls = ([
    path("", complaint_views.complaint_list, name="list"),
    path("new/", complaint_views.complaint_new, name="new"),
    path("<int:complaint_id>/", complaint_views.complaint_detail, name="detail"),
    path("<int:complaint_id>/files/<int:file_id>/", complaint_views.complaint_file, name="file"),
], "intake")

bulletin_urls = ([
    path("", bulletin_views.bulletin_list, name="list"),
    path("new/", bulletin_views.bulletin_new, name="new"),
    path("<int:bulletin_id>/", bulletin_views.bulletin_detail, name="detail"),
], "bulletins")
