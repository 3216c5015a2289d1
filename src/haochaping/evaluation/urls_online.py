from django.urls import path

from . import views_online

app_name = "online"
urlpatterns = [
    path("", views_online.evaluate, name="evaluate"),
]
