from django.urls import path

from . import views_qr

app_name = "qr"
urlpatterns = [
    path("sign/<int:window_id>.svg", views_qr.sign_svg, name="sign_svg"),
    path("sign/<int:window_id>.pdf", views_qr.sign_pdf, name="sign_pdf"),
    path("w/<str:token>/", views_qr.window_page, name="window"),
    path("w/<str:token>/rate/", views_qr.window_rate, name="window_rate"),
    path("r/<str:token>/", views_qr.record_link, name="record"),
]
