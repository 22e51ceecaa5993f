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
