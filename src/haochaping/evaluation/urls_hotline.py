from django.urls import path

from . import views_hotline

app_name = "hotline"
urlpatterns = [
    path("", views_hotline.search, name="search"),
    path("record/", views_hotline.record_call, name="record"),
]
