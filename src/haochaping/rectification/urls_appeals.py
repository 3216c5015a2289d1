"""Appeals (申诉) pages, mounted at /work/appeals/."""

from django.urls import path

from . import views_appeals

app_name = "appeals"
urlpatterns = [
    path("", views_appeals.queue, name="queue"),
    path("mine/", views_appeals.mine, name="mine"),
    path("new/<int:case_id>/", views_appeals.new, name="new"),
    path("<int:appeal_id>/", views_appeals.detail, name="detail"),
    path("<int:appeal_id>/files/<int:file_id>/", views_appeals.evidence, name="evidence"),
]
