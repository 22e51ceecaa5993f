"""The admin site: Django's, with the checks of query strings and posted ids that its changelists,
actions and django-import-export's export page leave out, a search box that keeps ID numbers
out of URLs, and read-only values printed as the staff pages print them (orgs/readonly.py);
config/apps.py makes it `admin.site`, so every registered admin has them, django-axes' and
django-tasks' included."""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ERROR_FLAG, SEARCH_VAR, ChangeList
from django.core.exceptions import EmptyResultSet, PermissionDenied, ValidationError
from django.db import connections
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext
from django.views.decorators.debug import sensitive_post_parameters

from orgs import idsearch
from orgs.readonly import ReadonlyValuesMixin
from orgs.registry import app_modules
from orgs.text import in_sentence

# Django's own message (and its translation), shown when an action is posted without a selection.
NOTHING_SELECTED = (
    "Items must be selected in order to perform actions on them. No items have been changed."
)
# What the changelist's other posts carry: an action (from the top or bottom bar, with or without
# a selection) and list_editable's save. A post without any of them is the search box's.
CHANGELIST_POST_KEYS = frozenset(
    {"action", "index", "select_across", "_save", helpers.ACTION_CHECKBOX_NAME}
)


class CheckedChangeList(ChangeList):
    """Django answers a filter it cannot apply with IncorrectLookupParameters (a redirect to
    `?e=1`) only when the error comes up while the queryset is built. These came up later, as
    500s: a date-hierarchy drill-down whose range ends past year 9999 (`?at__year=9999`), a year
    lookup past 9999 (`?created_at__year=10000`: ValueError when the SQL is compiled), an id past
    64 bits (`?organisation__id__exact=<20 digits>`: OverflowError when SQLite binds it).

    The list filters' titles read inside "By …" (`get_filters`).

    `idh`, a search by ID number (orgs/idsearch.py), is no lookup: ModelAdmin.get_search_results
    applies it, and the search box shows its masked number (`id_search`)."""

    def __init__(self, request, *args, **kwargs):
        self.id_search = idsearch.id_search(request)
        super().__init__(request, *args, **kwargs)

    def get_filters_params(self, params=None):
        lookup_params = super().get_filters_params(params)
        lookup_params.pop(idsearch.HASH, None)
        return lookup_params

    def get_filters(self, request):
        # Only query-string values are parsed here (the list filters', the date hierarchy's).
        try:
            filters = super().get_filters(request)
        except (ValueError, OverflowError) as error:
            raise IncorrectLookupParameters(error) from error
        for spec in filters[0]:
            # "By status", not "By Status": a field's name is capitalised where it heads a
            # column or a form (orgs.text.in_sentence); the sidebar puts it in a sentence.
            spec.title = in_sentence(spec.title)
        return filters

    def get_queryset(self, request, exclude_parameters=None):
        queryset = super().get_queryset(request, exclude_parameters)
        connection = connections[queryset.db]
        try:  # compiling runs no query
            _sql, params = queryset.query.get_compiler(connection=connection).as_sql()
        except EmptyResultSet:
            return queryset
        except (ValueError, OverflowError) as error:
            raise IncorrectLookupParameters(error) from error
        low, high = connection.ops.integer_field_range("BigIntegerField")
        if any(isinstance(param, int) and not low <= param <= high for param in params):
            raise IncorrectLookupParameters("integer out of range")
        return queryset


class CheckedInputMixin:
    """Put by the site in front of every registered ModelAdmin (none defines its own
    ChangeList).

    The changelist's search box is posted (templates/admin/search_form.html) and answered with a
    redirect to the list by `q`, or by `idh` when the text is an ID number (orgs/idsearch.py);
    a GET whose `q` holds one is redirected likewise. An admin whose model can be searched by ID
    number defines `search_id_hash(request, queryset, key)`; the others find nothing by `idh`."""

    def get_changelist(self, request, **kwargs):
        return CheckedChangeList

    @method_decorator(sensitive_post_parameters(SEARCH_VAR))
    def changelist_view(self, request, extra_context=None):
        posted_search = request.method == "POST" and (
            SEARCH_VAR in request.POST and not CHANGELIST_POST_KEYS.intersection(request.POST)
        )
        typed_in_address = request.method == "GET" and idsearch.id_number_in(
            request.GET.get(SEARCH_VAR, "")
        )
        if posted_search or typed_in_address:
            if not self.has_view_or_change_permission(request):
                raise PermissionDenied  # as Django's changelist_view, before anything is kept
            if posted_search:
                return idsearch.answer_search_post(request)
            return idsearch.redirect_id_number_in_query(request)
        if (
            request.method == "GET"
            and idsearch.HASH in request.GET
            and not hasattr(self, "search_id_hash")
        ):
            self.message_user(request, idsearch.NOT_SEARCHABLE, messages.WARNING)
        return super().changelist_view(request, extra_context)

    def get_search_results(self, request, queryset, search_term):
        if idsearch.HASH not in request.GET:
            return super().get_search_results(request, queryset, search_term)
        key = idsearch.valid_hash(request.GET.get(idsearch.HASH))
        search_id_hash = getattr(self, "search_id_hash", None)
        if not key or search_id_hash is None:
            return queryset.none(), False  # a bogus hash, or a model without ID numbers
        return search_id_hash(request, queryset, key), False

    def response_action(self, request, queryset):
        # Django filters `pk__in=<posted ids>` unchecked: "abc" raised ValueError, 20 digits
        # OverflowError. Such ids select nothing, so the action answers as for no selection.
        pk = self.model._meta.pk
        try:
            for value in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME):
                pk.run_validators(pk.to_python(value))  # the validators check the range
        except ValidationError:
            self.message_user(request, gettext(NOTHING_SELECTED), messages.WARNING)
            return None  # changelist_view redirects back to the list
        return super().response_action(request, queryset)

    def export_action(self, request):
        """django-import-export's export page (on the admins that have one) filters as the
        changelist does, through the same ChangeList, but lets IncorrectLookupParameters through
        as a 500 (`export/?id__in=abc`, `?nosuch=1`): it answers as the changelist does."""
        try:
            return super().export_action(request)
        except IncorrectLookupParameters:
            opts = self.opts
            changelist = reverse(
                f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_changelist"
            )
            return HttpResponseRedirect(f"{changelist}?{ERROR_FLAG}=1")


class AdminSite(admin.AdminSite):
    def index(self, request, extra_context=None):
        """The index opens on what is due: reminders (each app's `work.reminders`, such as next
        year's holidays) and the user's approvals (`work.admin_rows`), since supervisors decide
        files, closures and requests here."""
        rows = [
            row for _config, module in app_modules("work") for row in _admin_rows(module, request)
        ]
        reminders = [
            reminder
            for _config, module in app_modules("work")
            for reminder in getattr(module, "reminders", lambda request: [])(request)
        ]
        extra_context = {**(extra_context or {}), "work_rows": rows, "reminders": reminders}
        return super().index(request, extra_context)

    def autocomplete_view(self, request):
        """No admin of the site offers autocompletion, yet Django answers it for any foreign key
        to a model with search fields: through it an ID number went to the households' search
        with no hourly limit and no access-log entry (orgs/idsearch.py), and in the URL."""
        raise PermissionDenied

    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, CheckedInputMixin):
            admin_class = type(
                admin_class.__name__,
                (CheckedInputMixin, ReadonlyValuesMixin, admin_class),
                {"__module__": admin_class.__module__, "__qualname__": admin_class.__qualname__},
            )
        super().register(model_or_iterable, admin_class, **options)


def _admin_rows(module, request) -> list[dict]:
    admin_rows = getattr(module, "admin_rows", None)
    return admin_rows(request) if admin_rows is not None else []
