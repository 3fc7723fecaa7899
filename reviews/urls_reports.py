"""Service review report routes: the printable page and its CSV."""

from django.urls import path

from reviews import views_reports

urlpatterns = [
    path("reviews/<int:pk>/report/", views_reports.review_report, name="review_report"),
    path("reviews/<int:pk>/report.csv", views_reports.review_report_csv, name="review_report_csv"),
]
