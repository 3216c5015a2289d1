"""supervision's pages: the fraud findings queue at /work/fraud/ (namespace ``fraud``)."""

from django.urls import path

from haochaping.supervision.fraud import views as fraud_views

fraud_urls = ([
    path("", fraud_views.finding_list, name="list"),
    path("<int:finding_id>/", fraud_views.finding_detail, name="detail"),
], "fraud")
