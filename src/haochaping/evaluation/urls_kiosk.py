from django.urls import path

from . import views_kiosk

app_name = "kiosk"
urlpatterns = [
    path("", views_kiosk.page, name="page"),
    path("activate", views_kiosk.activate, name="activate"),
    path("state", views_kiosk.state, name="state"),
    path("submit", views_kiosk.submit, name="submit"),
]
