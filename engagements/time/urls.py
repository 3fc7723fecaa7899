"""Routes of the feature: its pages (`urlpatterns`) and its API (`api_urlpatterns`)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from engagements.time import api, views

urlpatterns = [
    path("engagements/<int:pk>/time/", views.time_entries, name="time_entries"),
    path(
        "engagements/<int:pk>/time/<int:entry_pk>/delete/",
        views.time_entry_delete,
        name="time_entry_delete",
    ),
]

router = SimpleRouter(trailing_slash=True)
router.register("time-entries", api.TimeEntryViewSet, basename="time-entry")
api_urlpatterns = router.urls
