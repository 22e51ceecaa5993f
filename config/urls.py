from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.i18n import set_language

admin.site.site_header = _("帮扶 · 困难职工帮扶管理系统")
admin.site.site_title = _("帮扶管理")
admin.site.index_title = _("审核审批与系统管理")


@login_not_required
def favicon(request):
    """Browsers ask for /favicon.ico on every page (the admin's included) whatever the links
    say. Resolved per request: the static file's hashed name exists only after collectstatic."""
    return redirect(static("favicon.svg"))


urlpatterns = [
    path("admin/", admin.site.urls),
    # The language switch is on the login page too.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    # Browsers ask for /favicon.ico on every page (the admin's included) whatever the links say.
    path("favicon.ico", favicon, name="favicon"),
    path("services/", include("services.urls")),
    path("reports/", include("reports.urls")),
    path("households/", include("households.urls")),
    path("imports/", include("imports.urls")),
    path("funds/", include("funds.urls")),
    path("", include("orgs.urls")),
]
