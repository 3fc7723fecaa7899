"""Routes of the feature: its pages (`urlpatterns`) and its API (`api_urlpatterns`)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from engagements.advocacy import api, views

urlpatterns = [
    path("engagements/<int:pk>/advocacy/", views.advocacy_list, name="advocacy_list"),
    path("engagements/<int:pk>/advocacy/new/", views.advocacy_create, name="advocacy_create"),
    path(
        "engagements/<int:pk>/advocacy/<int:item_pk>/",
        views.advocacy_edit,
        name="advocacy_edit",
    ),
]

router = SimpleRouter(trailing_slash=True)
router.register("advocacy-items", api.AdvocacyItemViewSet, basename="advocacy-item")
api_urlpatterns = router.urls
