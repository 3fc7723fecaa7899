"""Routes of the feature: its pages (`urlpatterns`) and its API (`api_urlpatterns`)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from cases.casework import api, views
from portal.live import live_fragment

urlpatterns = [
    path("cases/", views.case_list, name="case_list"),
    path(
        "cases/fragment/",
        live_fragment(views.case_list, "case_list_live"),
        name="case_list_fragment",
    ),
    path("cases/new/", views.case_create, name="case_create"),
    path("cases/bulk/", views.case_bulk, name="case_bulk"),
    path("cases/new/due/", views.case_due_preview, name="case_due_preview"),
    path("cases/<int:pk>/", views.case_detail, name="case_detail"),
    path("cases/<int:pk>/reply/", views.case_reply, name="case_reply"),
    path("cases/<int:pk>/status/", views.case_status, name="case_status"),
    path("cases/<int:pk>/assign/", views.case_assign, name="case_assign"),
    path("cases/<int:pk>/escalate/", views.case_escalate, name="case_escalate"),
    path("cases/<int:pk>/priority/", views.case_priority, name="case_priority"),
    path("cases/<int:pk>/rca/", views.case_rca, name="case_rca"),
    path("cases/<int:pk>/attachments/", views.case_attach, name="case_attach"),
    path(
        "cases/<int:pk>/attachments/<int:attachment_pk>/",
        views.case_attachment_download,
        name="case_attachment_download",
    ),
]

router = SimpleRouter(trailing_slash=True)
router.register("cases", api.CaseViewSet, basename="case")
api_urlpatterns = router.urls
