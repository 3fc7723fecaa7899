"""Installs `portal.admin_site.PortalAdminSite` as Django's default admin site."""

from django.contrib.admin.apps import AdminConfig


class PortalAdminConfig(AdminConfig):
    default_site = "portal.admin_site.PortalAdminSite"
