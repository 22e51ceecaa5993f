"""Pieces every app's staff pages share."""

from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django_filters.views import FilterView

PAGE_SIZE = 50


def add_service_errors(form, error: ValidationError) -> None:
    """Show a service's refusal on the form: field errors on their fields, others on top."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


class ScopedFilterListView(PermissionRequiredMixin, FilterView):
    """A filtered, paginated list; the filterset gets the request so it can scope its choices,
    and the template gets the query string without the page for the pagination links."""

    paginate_by = PAGE_SIZE
    strict = True

    def get_filterset_kwargs(self, filterset_class):
        kwargs = super().get_filterset_kwargs(filterset_class)
        kwargs["request"] = self.request
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query.pop("page", None)
        context["query_without_page"] = query.urlencode()
        return context
