from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("login/otp/", views.otp_view, name="login_otp"),
    path("login/enrol/", views.enrol_view, name="login_enrol"),
    path("login/password/", views.password_view, name="login_password"),
    path("logout/", views.logout_view, name="logout"),
]
