from django.urls import path

from . import views_receipt

app_name = "receipt"
urlpatterns = [
    path("", views_receipt.lookup, name="lookup"),
    path("view/", views_receipt.view, name="view"),
    path("followup/", views_receipt.followup, name="followup"),
]
