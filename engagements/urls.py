"""Pages of the engagements app: the catalog configuration and the engagements."""

from django.urls import include, path

urlpatterns = [
    path("catalog/", include("engagements.urls_catalog")),
    path("", include("engagements.urls_pages")),
]
