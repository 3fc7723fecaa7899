"""Routes of the feature: its pages (`urlpatterns`) and its API (`api_urlpatterns`)."""

from django.urls import path

from reviews.reports import views

urlpatterns = [
    path("reviews/<int:pk>/report/", views.review_report, name="review_report"),
    path("reviews/<int:pk>/report.csv", views.review_report_csv, name="review_report_csv"),
]
api_urlpatterns: list = []
