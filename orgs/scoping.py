"""The one mechanism that scopes organisation-owned data to the user's subtree.

Every model that belongs to an organisation uses `ScopedQuerySet` (or a subclass) as its
manager and names the lookup to its organisation in `org_lookup`. Views, the admin, exports and
reports call `.visible_to(user)`; an object outside the subtree is then simply not found (404).
"""

import dataclasses

from django.contrib import admin
from django.db import models
from django.db.models.constants import LOOKUP_SEP
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from orgs.money import is_money, yuan_text
from orgs.pii import BIRTH_DATE_FIELDS, PHONE_FIELDS, hides_birth_dates, masks_phones


class ScopedQuerySet(models.QuerySet):
    org_lookup = "organisation"

    def visible_to(self, user):
        if not getattr(user, "is_authenticated", False):
            return self.none()
        if user.is_superuser:
            return self
        org = getattr(user, "organisation", None)
        if org is None:
            return self.none()
        prefix = f"{self.org_lookup}__path" if self.org_lookup else "path"
        return self.filter(**{f"{prefix}__startswith": org.path})


def user_can_reach(user, organisation) -> bool:
    """Whether `organisation` lies in the user's subtree (for checks on forms and services)."""
    if user.is_superuser:
        return True
    own = getattr(user, "organisation", None)
    return bool(own and organisation and organisation.path.startswith(own.path))


def keeps_national(user) -> bool:
    """Whether `user` keeps what the whole tree shares (the national holiday calendar, the
    reference tables): a superuser, or someone at the top of the tree."""
    org = getattr(user, "organisation", None)
    return user.is_superuser or (org is not None and org.parent_id is None)


class NationalTableMixin:
    """The admin of a table every organisation shares (causes, categories, fund sources,
    assistance types, service windows): read by whoever may, changed only at the top of the
    tree; else a county could rename a cause or retire a fund source for every county."""

    def has_add_permission(self, request, *args):
        return keeps_national(request.user) and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        return keeps_national(request.user) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return keeps_national(request.user) and super().has_delete_permission(request, obj)

    def has_import_permission(self, request):  # django-import-export
        return keeps_national(request.user) and super().has_import_permission(request)

    # Who only reads the table sees each name in its list as the rest of the interface shows it
    # (a seeded name in the reader's language, orgs/reference.py); who keeps it edits the
    # stored names there. A row's own page shows the stored name, the value kept.
    def get_list_display(self, request):
        columns = super().get_list_display(request)
        if self.has_change_permission(request):
            return columns
        return ["shown_name" if column == "name" else column for column in columns]

    @admin.display(description=_("名称"), ordering="name")
    def shown_name(self, obj):
        return str(obj)


class ScopedAdminMixin:
    """Admin classes of organisation-owned models: lists, lookups and the choices of scoped
    foreign keys are limited to the user's subtree, so another county's object answers 404 in
    the admin too."""

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        # Django redirects to the index with "doesn't exist"; scoped objects answer 404 instead.
        raise Http404

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Not only organisations: a select of users, files or cases (the history pages render
        # one) must not list another county's records either.
        related = db_field.related_model._default_manager.all()
        if isinstance(related, ScopedQuerySet):
            kwargs["queryset"] = related.visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ScopedHistoryAdminMixin:
    """django-simple-history's admin views, scoped and read-only: its own views look the object
    up without our queryset (another county's history would show) and revert on POST. Changes
    of encrypted columns (ID and bank numbers) are listed masked, as lists show them, and those
    of the worker's phone to those who only read records (as the staff pages show it); amounts
    read "15,000.00", as everywhere in the admin."""

    def get_historical_record_context_helper(self, request, historical_record):
        from simple_history.template_utils import HistoricalRecordContextHelper

        from orgs.pii import EncryptedCharField, mask, mask_phone

        secret = {
            field.name
            for field in self.model._meta.concrete_fields
            if isinstance(field, EncryptedCharField)
        }
        phones = set(PHONE_FIELDS) if masks_phones(request.user) else set()
        money = {field.name for field in self.model._meta.concrete_fields if is_money(field)}

        class MaskedHelper(HistoricalRecordContextHelper):
            def prepare_delta_change_value(self, change, value):
                # An empty foreign key reads "Deleted 困难类别 (pk=None)" in simple-history.
                if type(value).__name__ == "DeletedObject" and value.pk is None:
                    return _("（空）")
                if value is not None and change.field in money:
                    return yuan_text(value)  # as the page prints it (orgs/readonly.py)
                return super().prepare_delta_change_value(change, value)

            def format_delta_change(self, change):
                masker = mask if change.field in secret else mask_phone
                if change.field in secret or change.field in phones:
                    change = dataclasses.replace(
                        change, old=masker(change.old or ""), new=masker(change.new or "")
                    )
                return super().format_delta_change(change)

        return MaskedHelper(self.model, historical_record)

    def set_history_delta_changes(self, request, historical_records, *args, **kwargs):
        super().set_history_delta_changes(request, historical_records, *args, **kwargs)
        # Most changes have no reason (NULL): the list printed it as "None".
        for record in historical_records:
            record.history_change_reason = record.history_change_reason or ""

    def _check_visible(self, request, object_id, version_id=None):
        """404 unless the object is in the user's subtree; ids that cannot be keys of the
        record or of its versions ("abc", from the URL) are not found either, not a 500."""
        from django.contrib.admin.utils import unquote
        from django.core.exceptions import ValidationError

        opts = self.model._meta
        try:
            pk = opts.pk.to_python(unquote(object_id))
            if version_id is not None:
                history = getattr(self.model, opts.simple_history_manager_attribute).model
                history._meta.pk.to_python(version_id)
        except ValidationError:
            raise Http404 from None
        if not self.get_queryset(request).filter(pk=pk).exists():
            raise Http404

    def history_view(self, request, object_id, extra_context=None):
        self._check_visible(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        from django.core.exceptions import PermissionDenied

        self._check_visible(request, object_id, version_id)
        if request.method != "GET":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    def revert_disabled(self, request, obj=None):
        return True


class MaskedPhoneAdminMixin:
    """A read-only admin (or inline) whose record holds the worker's phone: shown masked to
    those who only read records, as on the staff pages. Put before the ModelAdmin class."""

    def get_fieldsets(self, request, obj=None):
        masking = masks_phones(request.user)
        fieldsets = []
        for title, box in super().get_fieldsets(request, obj):
            fields = []
            for name in box["fields"]:
                if name in PHONE_FIELDS and masking:
                    name = "phone_masked"
                elif name == "phone_masked" and not masking:
                    continue
                fields.append(name)
            fieldsets.append((title, {**box, "fields": list(dict.fromkeys(fields))}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "phone_masked"]

    def phone_masked(self, obj):
        from orgs.pii import mask_phone

        phone = next((getattr(obj, name) for name in PHONE_FIELDS if hasattr(obj, name)), "")
        return mask_phone(phone or "")

    phone_masked.short_description = _("联系电话")  # admin.display, without importing the admin

    # Searched by a part, a masked phone would give away its hidden digits one query at a time,
    # and by the whole number its four hidden ones in 10,000 guesses: those who see it masked
    # do not search or filter by it at all (as on the staff lists).

    masked_search_help_text = None  # the search box's help as those who see phones masked read it

    def get_search_fields(self, request):
        fields = super().get_search_fields(request)
        if not masks_phones(request.user):
            return fields
        return [name for name in fields if name.lstrip("=^@") not in PHONE_FIELDS]

    def lookup_allowed(self, lookup, value, request):
        # ?phone__startswith=1361625 (or a range, a regex, the whole number) likewise.
        if masks_phones(request.user) and set(lookup.split(LOOKUP_SEP)) & set(PHONE_FIELDS):
            return False
        return super().lookup_allowed(lookup, value, request)

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        if self.masked_search_help_text and masks_phones(request.user):
            changelist.search_help_text = self.masked_search_help_text
        return changelist


class HiddenBirthDateAdminMixin:
    """A read-only admin whose record holds a birth date beside a masked ID number: those who see
    the number masked see no birth date on the record's page (nor on a version of it, which
    takes the same fieldsets), and cannot filter the list by it either: ?birth_date=1980-03-15
    (or a range, narrowed down) would find the date one guess a request, around the hourly limit
    on ID-number searches (orgs/idsearch.py). Put before the ModelAdmin class."""

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if not hides_birth_dates(request.user):
            return fieldsets
        return [
            (title, {**box, "fields": [n for n in box["fields"] if n not in BIRTH_DATE_FIELDS]})
            for title, box in fieldsets
        ]

    def lookup_allowed(self, lookup, value, request):
        # Refused (400), as the lookups of a masked phone are.
        if hides_birth_dates(request.user) and set(lookup.split(LOOKUP_SEP)) & set(
            BIRTH_DATE_FIELDS
        ):
            return False
        return super().lookup_allowed(lookup, value, request)


class ReadOnlyAdminMixin:
    """Records written only by the services (files, transitions, payments, cases…): the admin
    shows them, nobody adds, changes or deletes them there, not even a superuser."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
