"""Routes of the feature: its pages (`urlpatterns`) and its API (`api_urlpatterns`)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from reviews.publications import api, views

urlpatterns = [
    path("news/", views.publication_list, name="publication_list"),
    path("news/new/", views.publication_create, name="publication_create"),
    path("news/<int:pk>/", views.publication_detail, name="publication_detail"),
]

router = SimpleRouter(trailing_slash=True)
router.register("publications", api.PublicationViewSet, basename="publication")
api_urlpatterns = router.urls
