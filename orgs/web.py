"""Pieces every app's staff pages share."""

from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django_filters.views import FilterView

from orgs import idsearch

PAGE_SIZE = 50


def hides_personal_numbers(view_class, methods=("post",)):
    """For class-based views where ID or bank numbers are typed or shown: Django's error reports
    (mails to ADMINS, the debug page) then show neither the POST data nor the local variables
    of the view's `methods` and everything they call. Log lines are masked by orgs/logging.py."""
    view_class = method_decorator(sensitive_post_parameters(), name="dispatch")(view_class)
    for method in methods:
        view_class = method_decorator(sensitive_variables(), name=method)(view_class)
    return view_class


def typed_key(value) -> int | None:
    """A primary key as a form or a link sends it ("12"), or None for anything else ("", "1e9",
    "²": str.isdigit() takes superscripts, which int() refuses)."""
    key = str(value or "")
    return int(key) if key.isascii() and key.isdecimal() and len(key) < 10 else None


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


# --- Lists searchable by ID number (orgs/idsearch.py) ------------------------------------------


class IdSearchFilterSetMixin:
    """A FilterSet whose box `q` takes ID numbers. With `idh` in its data it searches that hash
    (`search_id_hash(queryset, key)`; a value that is not a hash finds nothing) and its `q`
    method must skip the text, which is then the masked number shown in the box:
    `if self.searches_id_hash: return queryset`."""

    @property
    def searches_id_hash(self) -> bool:
        return self.is_bound and idsearch.HASH in self.data

    def search_id_hash(self, queryset, key: str):
        raise NotImplementedError

    def filter_queryset(self, queryset):
        if self.searches_id_hash:
            key = idsearch.valid_hash(self.data.get(idsearch.HASH))
            queryset = self.search_id_hash(queryset, key) if key else queryset.none()
        return super().filter_queryset(queryset)


class IdSearchListMixin:
    """A list whose search form may carry an ID number: the form is posted (with the CSRF token
    and a hidden `idh` of the current search) and answered with a redirect to the list by `q` or
    `idh`; a GET whose `q` holds an ID number is redirected to the `idh` form. Bind the filter
    form to `id_search_data()` (FilterView lists are); the template gets `id_search` for the
    hidden field. Decorate the view with `hides_personal_numbers` (the number is posted)."""

    def get(self, request, *args, **kwargs):
        if response := idsearch.redirect_id_number_in_query(request):
            return response
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        return idsearch.answer_search_post(request)

    def id_search_data(self):
        return idsearch.form_data(self.request)

    def get_filterset_kwargs(self, filterset_class):  # FilterView lists
        return {**super().get_filterset_kwargs(filterset_class), "data": self.id_search_data()}

    def get_context_data(self, **kwargs):
        kwargs.setdefault("id_search", idsearch.id_search(self.request))
        kwargs.setdefault("search_posts", True)  # for filter-form templates shared with GET lists
        return super().get_context_data(**kwargs)
