"""Routes of the feature: its pages (`urlpatterns`) and its API (`api_urlpatterns`)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from reviews.health import api, views

urlpatterns = [
    path("engagements/<int:pk>/health/", views.engagement_health, name="engagement_health"),
    path("action-items/overdue/", views.overdue_items, name="overdue_action_items"),
]

router = SimpleRouter(trailing_slash=True)
router.register("engagement-health", api.EngagementHealthViewSet, basename="engagement-health")
router.register(
    "overdue-action-items", api.OverdueActionItemViewSet, basename="overdue-action-item"
)
api_urlpatterns = [
    path(
        "engagements/<int:pk>/health/",
        api.EngagementHealthView.as_view(),
        name="engagement-health-detail",
    ),
    *router.urls,
]
