"""Third-party apps named in Chinese in the admin (INSTALLED_APPS lists these configs instead of the apps' own).

django-axes (login lockouts) and django-tasks-db (background task results) ship no Simplified Chinese catalogue;
their field and model names are translated in the project's locale (locale/zh_Hans), but an app's own name and a
plain-string admin column title cannot be translated there, so they are given here."""

from __future__ import annotations

from axes.apps import AppConfig as AxesAppConfig
from django.utils.translation import gettext_lazy as _
from django_tasks_db.apps import TasksAppConfig


class AxesConfig(AxesAppConfig):
    verbose_name = _("登录锁定")


class TasksDatabaseConfig(TasksAppConfig):
    verbose_name = _("后台任务")
