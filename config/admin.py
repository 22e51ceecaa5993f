"""The admin site: Django's, with the checks of query strings and posted ids that its changelists,
actions and django-import-export's export page leave out (config/apps.py makes it `admin.site`, so
every registered admin has them, django-axes' and django-tasks' included)."""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ERROR_FLAG, ChangeList
from django.core.exceptions import EmptyResultSet, ValidationError
from django.db import connections
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext

# Django's own message (and its translation), shown when an action is posted without a selection.
NOTHING_SELECTED = (
    "Items must be selected in order to perform actions on them. No items have been changed."
)


class CheckedChangeList(ChangeList):
    """Django answers a filter it cannot apply with IncorrectLookupParameters (a redirect to
    `?e=1`) only when the error comes up while the queryset is built. These came up later, as
    500s: a date-hierarchy drill-down whose range ends past year 9999 (`?at__year=9999`), a year
    lookup past 9999 (`?created_at__year=10000`: ValueError when the SQL is compiled), an id past
    64 bits (`?organisation__id__exact=<20 digits>`: OverflowError when SQLite binds it)."""

    def get_filters(self, request):
        # Only query-string values are parsed here (the list filters', the date hierarchy's).
        try:
            return super().get_filters(request)
        except (ValueError, OverflowError) as error:
            raise IncorrectLookupParameters(error) from error

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
    ChangeList)."""

    def get_changelist(self, request, **kwargs):
        return CheckedChangeList

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
    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, CheckedInputMixin):
            admin_class = type(
                admin_class.__name__,
                (CheckedInputMixin, admin_class),
                {"__module__": admin_class.__module__, "__qualname__": admin_class.__qualname__},
            )
        super().register(model_or_iterable, admin_class, **options)
