"""Routes of the feature: its pages (`urlpatterns`) and its API (`api_urlpatterns`)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from cases.fixes import api, views

urlpatterns = [
    path("engagements/<int:pk>/fixes/", views.fix_request_list, name="fix_request_list"),
    path("engagements/<int:pk>/fixes/new/", views.fix_request_create, name="fix_request_create"),
    path("engagements/<int:pk>/fixes/rank/", views.fix_request_rank, name="fix_request_rank"),
    path(
        "engagements/<int:pk>/fixes/<int:fix_pk>/vendor/",
        views.fix_request_vendor,
        name="fix_request_vendor",
    ),
]

router = SimpleRouter(trailing_slash=True)
router.register("fix-requests", api.FixRequestViewSet, basename="fix-request")
api_urlpatterns = router.urls
