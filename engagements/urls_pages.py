"""Engagement pages."""

from django.urls import include, path

from engagements import views

urlpatterns = [
    path("engagements/", views.engagement_list, name="engagement_list"),
    path("engagements/new/", views.engagement_create, name="engagement_create"),
    path("engagements/<int:pk>/", views.engagement_detail, name="engagement_detail"),
    path("engagements/<int:pk>/edit/", views.engagement_edit, name="engagement_edit"),
    path(
        "engagements/<int:pk>/holidays/",
        views.engagement_holiday_add,
        name="engagement_holiday_add",
    ),
    path(
        "engagements/<int:pk>/holidays/<int:holiday_pk>/delete/",
        views.engagement_holiday_delete,
        name="engagement_holiday_delete",
    ),
    path(
        "engagements/<int:pk>/contacts/",
        views.engagement_contact_add,
        name="engagement_contact_add",
    ),
    path(
        "engagements/<int:pk>/contacts/<int:contact_pk>/remove/",
        views.engagement_contact_remove,
        name="engagement_contact_remove",
    ),
    path("engagements/<int:pk>/after-hours/", views.after_hours_list, name="after_hours_list"),
    path(
        "engagements/<int:pk>/after-hours/<int:request_pk>/decide/",
        views.after_hours_decide,
        name="after_hours_decide",
    ),
    path("engagements/<int:pk>/time/", views.time_entries, name="time_entries"),
    path(
        "engagements/<int:pk>/time/<int:entry_pk>/delete/",
        views.time_entry_delete,
        name="time_entry_delete",
    ),
    path("", include("engagements.urls_functions")),
    path("absences/", views.absence_list, name="absence_list"),
    path("absences/<int:pk>/delete/", views.absence_delete, name="absence_delete"),
]
