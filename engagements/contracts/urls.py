"""Routes of the feature: its pages (`urlpatterns`) and its API (`api_urlpatterns`)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from engagements.contracts import api, views

urlpatterns = [
    path("engagements/", views.engagement_list, name="engagement_list"),
    path("engagements/new/", views.engagement_create, name="engagement_create"),
    path("engagements/<int:pk>/", views.engagement_detail, name="engagement_detail"),
    path("engagements/<int:pk>/edit/", views.engagement_edit, name="engagement_edit"),
    path(
        "engagements/<int:pk>/holidays/",
        views.engagement_holiday_add,
        name="engagement_holiday_add",
    ),
    path(
        "engagements/<int:pk>/holidays/<int:holiday_pk>/delete/",
        views.engagement_holiday_delete,
        name="engagement_holiday_delete",
    ),
]

router = SimpleRouter(trailing_slash=True)
router.register("engagements", api.EngagementViewSet, basename="engagement")
api_urlpatterns = router.urls
