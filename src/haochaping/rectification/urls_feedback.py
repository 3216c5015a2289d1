"""The evaluator's answer on how their bad review was handled (满意/不满意), mounted at /r/feedback/."""

from django.urls import path

from . import views_feedback

app_name = "feedback"
urlpatterns: list = [
    path("answer/", views_feedback.answer, name="answer"),
]
