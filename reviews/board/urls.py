"""Routes of the feature: its pages (`urlpatterns`) and its API (`api_urlpatterns`)."""

from django.urls import path

from reviews.board import views

urlpatterns = [
    path("board/", views.weekly_board, name="weekly_board"),
]
api_urlpatterns: list = []
