from django.contrib import admin
from django.urls import include, path

from .api import api

admin.site.site_header = "政务服务“好差评”系统管理"
admin.site.site_title = "好差评管理"
admin.site.index_title = "系统管理"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("accounts/", include("haochaping.accounts.urls")),
    path("", include("haochaping.catalog.urls")),
]
