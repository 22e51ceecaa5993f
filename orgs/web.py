"""Pieces every app's staff pages share."""

from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django_filters.views import FilterView

PAGE_SIZE = 50


def hides_personal_numbers(view_class, methods=("post",)):
    """For class-based views where ID or bank numbers are typed or shown: Django's error reports
    (mails to ADMINS, the debug page) then show neither the POST data nor the local variables
    of the view's `methods` and everything they call. Log lines are masked by orgs/logging.py."""
    view_class = method_decorator(sensitive_post_parameters(), name="dispatch")(view_class)
    for method in methods:
        view_class = method_decorator(sensitive_variables(), name=method)(view_class)
    return view_class


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
