"""Routes of the feature: its pages (`urlpatterns`) and its API (`api_urlpatterns`)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from reviews.enablement import api, views

urlpatterns = [
    path("enablement/", views.enablement_catalog, name="enablement_catalog"),
    path(
        "enablement/<int:pk>/remove/",
        views.training_resource_remove,
        name="training_resource_remove",
    ),
]

router = SimpleRouter(trailing_slash=True)
router.register(
    "training-resources",
    api.TrainingResourceViewSet,
    basename="training-resource",
)
api_urlpatterns = router.urls
