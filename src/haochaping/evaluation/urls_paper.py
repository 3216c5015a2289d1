from django.urls import path

from . import views_paper

app_name = "paper"
urlpatterns = [
    path("print/<int:agency_id>/", views_paper.print_forms, name="print"),
    path("enter/", views_paper.enter_form, name="enter"),
]
