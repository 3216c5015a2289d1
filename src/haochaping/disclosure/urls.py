"""The public portal (R5.5), mounted at /public/: no login, no personal data."""

from django.urls import path

from . import views, views_bulletins, views_log, views_opendata

app_name = "disclosure"
urlpatterns = [
    path("", views.home, name="home"),
    path("regions/<str:code>/", views.region, name="region"),
    path("regions/<str:code>/departments/<str:credit_code>/", views.department, name="department"),
    path("cases/", views.cases, name="cases"),
    path("bulletins/", views_bulletins.bulletin_list, name="bulletins"),
    path("bulletins/<int:bulletin_id>/", views_bulletins.bulletin_detail, name="bulletin"),
    path("log/", views_log.log, name="log"),
    path("opendata/log/checkpoints.json", views_log.checkpoints_file, name="log_checkpoints"),
    path("opendata/log/leaves.jsonl", views_log.leaves_file, name="log_leaves"),
    path("opendata/", views_opendata.dictionary, name="opendata"),
    path("opendata/<str:dataset>.<str:fmt>", views_opendata.download, name="download"),
]
