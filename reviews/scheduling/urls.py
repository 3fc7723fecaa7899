"""Routes of the feature: its pages (`urlpatterns`) and its API (`api_urlpatterns`)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from reviews.scheduling import api, views

urlpatterns = [
    path("reviews/", views.occurrence_list, name="occurrence_list"),
    path("reviews/request/", views.occurrence_request, name="occurrence_request"),
    path("reviews/<int:pk>/", views.occurrence_detail, name="occurrence_detail"),
    path(
        "reviews/<int:pk>/complete/",
        views.occurrence_complete,
        name="occurrence_complete",
    ),
    path("reviews/<int:pk>/cancel/", views.occurrence_cancel, name="occurrence_cancel"),
    path(
        "reviews/action-items/<int:pk>/toggle/",
        views.action_item_toggle,
        name="action_item_toggle",
    ),
]

router = SimpleRouter(trailing_slash=True)
router.register("reviews", api.OccurrenceViewSet, basename="review")
router.register("action-items", api.ActionItemViewSet, basename="action-item")
api_urlpatterns = router.urls
