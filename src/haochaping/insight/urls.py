"""Insight pages (pain points, dashboards, reports), mounted at /insight/."""

from django.urls import path

from . import views_dashboard, views_dashboard_evaluations, views_painpoints

app_name = "insight"
urlpatterns = [
    path("", views_dashboard.dashboard, name="dashboard"),
    path("evaluations/", views_dashboard_evaluations.evaluations, name="dashboard_evaluations"),
    path("painpoints/", views_painpoints.painpoints, name="painpoints"),
    path("painpoints/focus-issues/", views_painpoints.focus_issue, name="focus_issue"),
]
