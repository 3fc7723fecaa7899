"""Session pages: the weekly board, the sessions, completing, cancelling and requesting them."""

from django.urls import path

from reviews import views

urlpatterns = [
    path("board/", views.weekly_board, name="weekly_board"),
    path("reviews/", views.occurrence_list, name="occurrence_list"),
    path("reviews/request/", views.occurrence_request, name="occurrence_request"),
    path("reviews/<int:pk>/", views.occurrence_detail, name="occurrence_detail"),
    path("reviews/<int:pk>/complete/", views.occurrence_complete, name="occurrence_complete"),
    path("reviews/<int:pk>/cancel/", views.occurrence_cancel, name="occurrence_cancel"),
    path(
        "reviews/action-items/<int:pk>/toggle/",
        views.action_item_toggle,
        name="action_item_toggle",
    ),
]
