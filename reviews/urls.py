"""Pages of the reviews app."""

from django.urls import include, path

urlpatterns = [
    path("", include("reviews.urls_feeds")),
    path("", include("reviews.urls_reports")),
    path("", include("reviews.urls_pages")),
    path("", include("reviews.urls_functions")),
    path("", include("reviews.urls_publications")),
]
