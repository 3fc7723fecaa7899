"""Routes of the feature: its pages (`urlpatterns`) and its API (`api_urlpatterns`)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from reviews.maintenance import api, views

urlpatterns = [
    path(
        "engagements/<int:pk>/maintenance/",
        views.maintenance_list,
        name="maintenance_list",
    ),
    path(
        "engagements/<int:pk>/maintenance/<int:window_pk>/edit/",
        views.maintenance_edit,
        name="maintenance_edit",
    ),
    path(
        "engagements/<int:pk>/maintenance/<int:window_pk>/status/",
        views.maintenance_status,
        name="maintenance_status",
    ),
]

router = SimpleRouter(trailing_slash=True)
router.register("maintenance-windows", api.MaintenanceWindowViewSet, basename="maintenance-window")
api_urlpatterns = router.urls
