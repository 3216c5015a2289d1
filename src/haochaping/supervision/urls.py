"""supervision's pages: the fraud findings queue at /work/fraud/ (namespace ``fraud``), third-party assessments at
/work/assessments/ (``assessments``) and the appraisal at /work/appraisal/ (``appraisal``)."""

from django.urls import path

from haochaping.supervision.appraisal import views as appraisal_views
from haochaping.supervision.assessments import views as assessment_views
from haochaping.supervision.fraud import views as fraud_views

fraud_urls = ([
    path("", fraud_views.finding_list, name="list"),
    path("<int:finding_id>/", fraud_views.finding_detail, name="detail"),
], "fraud")

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
