"""Pages of the maintenance and release-management service functions, per engagement."""

from django.urls import path

from reviews import views_functions as views

urlpatterns = [
    path("engagements/<int:pk>/maintenance/", views.maintenance_list, name="maintenance_list"),
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
