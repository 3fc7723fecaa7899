"""Routes of the feature: its pages (`urlpatterns`) and its API (`api_urlpatterns`)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from engagements.intelligence import api, views

urlpatterns = [
    path(
        "engagements/<int:pk>/intelligence/",
        views.customer_profile,
        name="customer_profile",
    ),
]

router = SimpleRouter(trailing_slash=True)
router.register("customer-profiles", api.CustomerProfileViewSet, basename="customer-profile")
api_urlpatterns = router.urls
