from django.contrib import admin
from django.urls import include, path

from .api import api
from .core.views import favicon
from .evaluation import urls as evaluation_urls
from .evaluation.views.receipt import text_size
from .insight import urls as insight_urls
from .rectification import urls as rectification_urls
from .supervision import urls as supervision_urls

handler500 = "haochaping.core.views.server_error"

admin.site.site_header = "政务服务“好差评”系统管理"
admin.site.site_title = "好差评管理"
admin.site.index_title = "系统管理"

urlpatterns = [
    path("favicon.ico", favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("accounts/", include("haochaping.accounts.urls")),
    path("kiosk/", include(evaluation_urls.kiosk_urls)),
    path("r/feedback/", include(rectification_urls.feedback_urls)),
    path("r/", include(evaluation_urls.receipt_urls)),
    path("work/appeals/", include(rectification_urls.appeal_urls)),
    path("work/fraud/", include(supervision_urls.fraud_urls)),
    path("work/surveys/", include(supervision_urls.survey_urls)),
    path("work/callbacks/", include(supervision_urls.callback_urls)),
    path("work/assessments/", include(supervision_urls.assessment_urls)),
    path("work/appraisal/", include(supervision_urls.appraisal_urls)),
    path("work/intake/", include(supervision_urls.intake_urls)),
    path("work/bulletins/", include(supervision_urls.bulletin_urls)),
    path("work/", include("haochaping.rectification.urls")),
    path("insight/reports/", include(insight_urls.report_urls)),
    path("insight/", include("haochaping.insight.urls")),
    path("exchange/", include("haochaping.exchange.urls")),
    path("public/", include("haochaping.disclosure.urls")),
    path("hotline/", include(evaluation_urls.hotline_urls)),
    path("q/", include(evaluation_urls.qr_urls)),
    path("paper/", include(evaluation_urls.paper_urls)),
    path("i/", include(evaluation_urls.invite_urls)),
    path("a/", include(rectification_urls.reply_urls)),
    path("e/", include(evaluation_urls.online_urls)),
    path("s/", include(supervision_urls.survey_public_urls)),
    # The header's 大字版/标准版 toggle (适老化).
    path("text-size/", text_size, name="text_size"),
    path("", include("haochaping.catalog.urls")),
]
