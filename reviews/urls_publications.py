"""Pages of vendor news and roadmap announcements, the enablement catalog and consulting."""

from django.urls import path

from reviews import views_publications as views

urlpatterns = [
    path("news/", views.publication_list, name="publication_list"),
    path("news/new/", views.publication_create, name="publication_create"),
    path("news/<int:pk>/", views.publication_detail, name="publication_detail"),
    path("enablement/", views.enablement_catalog, name="enablement_catalog"),
    path(
        "enablement/<int:pk>/remove/",
        views.training_resource_remove,
        name="training_resource_remove",
    ),
    path("engagements/<int:pk>/consulting/", views.consulting_list, name="consulting_list"),
    path("engagements/<int:pk>/consulting/new/", views.consulting_create, name="consulting_create"),
    path(
        "engagements/<int:pk>/consulting/<int:request_pk>/schedule/",
        views.consulting_schedule,
        name="consulting_schedule",
    ),
    path(
        "engagements/<int:pk>/consulting/<int:request_pk>/status/",
        views.consulting_status,
        name="consulting_status",
    ),
]
