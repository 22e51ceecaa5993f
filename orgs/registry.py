"""Apps contribute to shared features by convention: `<app>.permissions` (role tables),
`<app>.work` (home-page panels), `<app>.timeline` (household timeline), `<app>.demo` (demo
data). This finds those modules."""

from collections.abc import Iterator
from importlib import import_module
from types import ModuleType

from django.apps import AppConfig, apps


def app_modules(name: str) -> Iterator[tuple[AppConfig, ModuleType]]:
    """(app config, module) for every installed app that has a module `<app>.<name>`; an import
    error inside such a module is raised, not mistaken for its absence."""
    for config in apps.get_app_configs():
        dotted = f"{config.name}.{name}"
        try:
            module = import_module(dotted)
        except ModuleNotFoundError as exc:
            if exc.name != dotted:
                raise
            continue
        yield config, module
