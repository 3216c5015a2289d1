"""The evaluators' pages, one URL namespace per channel, each a (patterns, namespace) pair that haochaping/urls.py
mounts: kiosk at /kiosk/, receipt at /r/, hotline at /hotline/, qr at /q/, paper at /paper/, invite at /i/,
online (一事一评) at /e/.
"""

from django.urls import path

from .views import hotline, invite, kiosk, online, paper, qr, receipt

kiosk_urls = ([
    path("", kiosk.page, name="page"),
    path("activate", kiosk.activate, name="activate"),
    path("state", kiosk.state, name="state"),
    path("submit", kiosk.submit, name="submit"),
], "kiosk")

receipt_urls = ([
    path("", receipt.lookup, name="lookup"),
    path("view/", receipt.view, name="view"),
    path("followup/", receipt.followup, name="followup"),
], "receipt")

hotline_urls = ([
    path("", hotline.search, name="search"),
    path("by-phone/", hotline.search_by_phone, name="by_phone"),
    path("record/", hotline.record_call, name="record"),
], "hotline")

qr_urls = ([
    path("sign/<int:window_id>.svg", qr.sign_svg, name="sign_svg"),
    path("sign/<int:window_id>.pdf", qr.sign_pdf, name="sign_pdf"),
    path("w/<str:token>/", qr.window_page, name="window"),
    path("w/<str:token>/rate/", qr.window_rate, name="window_rate"),
    path("r/<str:token>/", qr.record_link, name="record"),
], "qr")

paper_urls = ([
    path("", paper.index, name="index"),
    path("print/<int:agency_id>/", paper.print_forms, name="print"),
    path("enter/", paper.enter_form, name="enter"),
], "paper")

invite_urls = ([
    path("<str:token>/", invite.invitation, name="link"),
], "invite")

online_urls = ([
    path("", online.evaluate, name="evaluate"),
], "online")
