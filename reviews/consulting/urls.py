"""Routes of the feature: its pages (`urlpatterns`) and its API (`api_urlpatterns`)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from reviews.consulting import api, views

urlpatterns = [
    path("engagements/<int:pk>/consulting/", views.consulting_list, name="consulting_list"),
    path(
        "engagements/<int:pk>/consulting/new/",
        views.consulting_create,
        name="consulting_create",
    ),
    path(
        "engagements/<int:pk>/consulting/<int:request_pk>/schedule/",
        views.consulting_schedule,
        name="consulting_schedule",
    ),
    path(
        "engagements/<int:pk>/consulting/<int:request_pk>/status/",
        views.consulting_status,
        name="consulting_status",
    ),
]

router = SimpleRouter(trailing_slash=True)
router.register(
    "consulting-requests",
    api.ConsultingRequestViewSet,
    basename="consulting-request",
)
api_urlpatterns = router.urls
