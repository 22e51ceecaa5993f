from django.contrib.admin.apps import AdminConfig


class BangfuAdminConfig(AdminConfig):
    """django.contrib.admin with our site (config/admin.py) as `admin.site`."""

    default_site = "config.admin.AdminSite"
