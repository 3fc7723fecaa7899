"""Routes of the feature: its pages (`urlpatterns`) and its API (`api_urlpatterns`)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from reviews.releases import api, views

urlpatterns = [
    path("engagements/<int:pk>/changes/", views.change_list, name="change_list"),
    path(
        "engagements/<int:pk>/changes/<int:change_pk>/edit/",
        views.change_edit,
        name="change_edit",
    ),
    path(
        "engagements/<int:pk>/changes/<int:change_pk>/status/",
        views.change_status,
        name="change_status",
    ),
    path(
        "engagements/<int:pk>/changes/<int:change_pk>/acknowledge/",
        views.change_acknowledge,
        name="change_acknowledge",
    ),
]

router = SimpleRouter(trailing_slash=True)
router.register("changes", api.ChangeItemViewSet, basename="change")
api_urlpatterns = router.urls
