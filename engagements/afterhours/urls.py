"""Routes of the feature: its pages (`urlpatterns`) and its API (`api_urlpatterns`)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from engagements.afterhours import api, views

urlpatterns = [
    path(
        "engagements/<int:pk>/after-hours/",
        views.after_hours_list,
        name="after_hours_list",
    ),
    path(
        "engagements/<int:pk>/after-hours/<int:request_pk>/decide/",
        views.after_hours_decide,
        name="after_hours_decide",
    ),
]

router = SimpleRouter(trailing_slash=True)
router.register(
    "after-hours-requests", api.AfterHoursRequestViewSet, basename="after-hours-request"
)
api_urlpatterns = router.urls
