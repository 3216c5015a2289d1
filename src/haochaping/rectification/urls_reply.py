"""The link in the answer SMS, /a/<token>/ (reply_links)."""

from django.urls import path

from . import views_feedback

app_name = "reply"
urlpatterns: list = [
    path("<str:token>/", views_feedback.reply_link, name="open"),
]
