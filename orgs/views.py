from django.contrib.auth import views as auth_views
from django.contrib.messages.views import SuccessMessageMixin
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView

from orgs.registry import app_modules


def work_panels(request) -> list[dict]:
    """Panels for "my work": each app may define `work.panels(request)` returning a list of
    {"template": …, **context} dicts for what this user has to do."""
    panels: list[dict] = []
    for _config, module in app_modules("work"):
        panels.extend(module.panels(request))
    return panels


class HomeView(TemplateView):
    template_name = "orgs/home.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(work_panels=work_panels(self.request), **kwargs)


class PasswordChangeView(SuccessMessageMixin, auth_views.PasswordChangeView):
    """The staff pages' own password change (the admin has its own): back home, and said."""

    success_url = reverse_lazy("home")
    success_message = gettext_lazy("密码已修改。")
