"""The public portal (R5.5), mounted at /public/: no login, no personal data."""

from django.urls import path

from . import views, views_opendata

app_name = "disclosure"
urlpatterns = [
    path("", views.home, name="home"),
    path("regions/<str:code>/", views.region, name="region"),
    path("regions/<str:code>/departments/<str:credit_code>/", views.department, name="department"),
    path("cases/", views.cases, name="cases"),
    path("opendata/", views_opendata.dictionary, name="opendata"),
    path("opendata/<str:dataset>.<str:fmt>", views_opendata.download, name="download"),
]
