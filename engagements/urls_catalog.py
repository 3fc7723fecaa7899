"""Catalog configuration pages (provider admins)."""

urlpatterns: list = []
