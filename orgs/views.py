from importlib import import_module

from django.apps import apps
from django.views.generic import TemplateView


def work_panels(request) -> list[dict]:
    """Panels for "my work": each app may define `work.panels(request)` returning a list of
    {"template": …, **context} dicts for what this user has to do."""
    panels: list[dict] = []
    for config in apps.get_app_configs():
        try:
            module = import_module(f"{config.name}.work")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.work":
                raise
            continue
        panels.extend(module.panels(request))
    return panels


class HomeView(TemplateView):
    template_name = "orgs/home.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(work_panels=work_panels(self.request), **kwargs)
