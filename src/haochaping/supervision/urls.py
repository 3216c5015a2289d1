"""supervision's pages: the fraud findings queue at /work/fraud/ (namespace ``fraud``), 综合点评 intake at
/work/intake/ (``intake``), bulletins at /work/bulletins/ (``bulletins``)."""

from django.urls import path

from haochaping.supervision.bulletins import views as bulletin_views
from haochaping.supervision.complaints import views as complaint_views
from haochaping.supervision.fraud import views as fraud_views

fraud_urls = ([
    path("", fraud_views.finding_list, name="list"),
    path("<int:finding_id>/", fraud_views.finding_detail, name="detail"),
], "fraud")

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
