"""How the admin prints what nobody edits there: every amount of money as the staff pages print it
("15,000.00", `orgs.money.yuan_text`), in list columns and on read-only change pages, inlines
and earlier versions alike; and a related record on those pages as a link to its admin page only
when the user may open that page, else as its name. The site puts `ReadonlyValuesMixin` in front
of every registered admin (config/admin.py), so no admin has to remember either.

Django prints a read-only model field itself (helpers.AdminReadonlyField: `display_for_field`,
a Decimal as "15000.00"; `get_admin_url`, a link to any related record whose admin is
registered, though the union above a county's, or another county's user, answers that county's
staff 404 and a clerk's name finance 403), with no hook of its own and no request to decide by.
A read-only field may also be a callable of the object, printed as it returns; so, once the
page's form is built, each read-only field this module prints is swapped in the page's
fieldsets for such a callable (`ReadonlyValue`), named and labelled as the field. The form and
what is saved are not touched."""

from functools import cache

from django.contrib.admin.utils import flatten_fieldsets, quote
from django.core.exceptions import FieldDoesNotExist
from django.urls import reverse
from django.utils.html import format_html

from orgs.money import is_money, yuan_text


class ReadonlyValue:
    """One read-only field of a page (or a list column) as Django prints a callable:
    `show(value)` of the field's value, `empty` for none. Named as the field, so that its cell
    keeps the class field-<name> and its label and help text stay the field's."""

    do_not_call_in_templates = True  # a tabular inline's header prints it: column-<name>

    def __init__(self, field, show, empty):
        self.field, self.show, self.empty = field, show, empty
        self.__name__ = field.name
        self.short_description = field.verbose_name

    def __call__(self, obj):
        value = getattr(obj, self.field.name)
        return self.empty if value is None else self.show(value)

    def __str__(self):
        return self.field.name


class Links:
    """Related records of one page as links, each only if the request's user may open its
    admin page: the target's admin decides, as its change view would (its permissions, and its
    queryset: the scope of orgs.scoping, or whatever narrows it). Asked once per record."""

    def __init__(self, request, admin_site):
        self.request, self.site = request, admin_site
        self.opens = {}

    def to(self, model):
        def show(related):
            if not self.may_open(model, related):
                return str(related)
            opts = model._meta
            url = reverse(
                f"{self.site.name}:{opts.app_label}_{opts.model_name}_change",
                args=[quote(related.pk)],
                current_app=self.site.name,
            )
            return format_html('<a href="{}">{}</a>', url, related)

        return show

    def preload(self, model, records) -> None:
        """Decide for many records of `model` at once, in one query: an inline's rows each
        link to one (a notice's files), which `may_open` would look up one by one."""
        target = self.site._registry.get(model)
        pending = {
            related.pk: related
            for related in records
            if related is not None and (model, related.pk) not in self.opens
        }
        allowed = {
            pk: related
            for pk, related in pending.items()
            if target is not None and target.has_view_or_change_permission(self.request, related)
        }
        visible = set()
        if allowed:
            queryset = target.get_queryset(self.request).filter(pk__in=list(allowed))
            visible = set(queryset.values_list("pk", flat=True))
        for pk in pending:
            self.opens[(model, pk)] = pk in visible

    def may_open(self, model, related) -> bool:
        key = (model, related.pk)
        if key not in self.opens:
            target = self.site._registry.get(model)
            self.opens[key] = bool(
                target is not None
                and target.has_view_or_change_permission(self.request, related)
                and target.get_queryset(self.request).filter(pk=related.pk).exists()
            )
        return self.opens[key]


def readonly_value(model, name, model_admin, links):
    """The `ReadonlyValue` that prints read-only field `name` of `model`, or None where
    Django's own printing is right."""
    field = model_field(model, name)
    if field is None:
        return None
    empty = model_admin.get_empty_value_display()
    if is_money(field):
        return ReadonlyValue(field, yuan_text, empty)
    if (field.many_to_one or field.one_to_one) and field.concrete and field.related_model:
        return ReadonlyValue(field, links.to(field.related_model), empty)
    return None


def swap_readonly(fieldsets, readonly, model, model_admin, links):
    """`fieldsets` and `readonly` with each read-only field this module prints replaced by its
    `ReadonlyValue` (the same object in both, as Django matches them)."""
    values = {}
    for name in readonly:
        value = readonly_value(model, name, model_admin, links)
        if value is not None:
            values[name] = value

    def swap(names):
        if isinstance(names, (list, tuple)):
            return type(names)(swap(name) for name in names)
        return values.get(names, names)

    fieldsets = [(title, {**box, "fields": swap(box["fields"])}) for title, box in fieldsets]
    return fieldsets, [values.get(name, name) for name in readonly]


def print_readonly(request, context, admin_site):
    """Swap the read-only fields of a change page's (or a version's) context: its form and each
    inline's. An inline's existing rows are all read-only when it may not change them (Django
    adds its whole fieldsets then); its new rows only while it may not add any either."""
    links = Links(request, admin_site)
    adminform = context.get("adminform")
    if adminform is not None:
        adminform.fieldsets, adminform.readonly_fields = swap_readonly(
            adminform.fieldsets,
            list(adminform.readonly_fields),
            adminform.form._meta.model,
            adminform.model_admin,
            links,
        )
    for inline in context.get("inline_admin_formsets", ()):
        readonly = list(inline.readonly_fields)
        if not inline.has_change_permission and not inline.has_add_permission:
            readonly += [n for n in flatten_fieldsets(inline.fieldsets) if n not in readonly]
        inline.fieldsets, inline.readonly_fields = swap_readonly(
            inline.fieldsets, readonly, inline.opts.model, inline.opts, links
        )
        for value in inline.readonly_fields:
            if isinstance(value, ReadonlyValue) and value.field.related_model:
                rows = [form.instance for form in inline.formset.initial_forms]
                related = [getattr(row, value.field.name) for row in rows]
                links.preload(value.field.related_model, related)


class ReadonlyValuesMixin:
    """Every admin of the site (config/admin.py): read-only values printed by this module."""

    def get_list_display(self, request):
        return [money_column(self.model, name) for name in super().get_list_display(request)]

    def render_change_form(self, request, context, *args, **kwargs):
        print_readonly(request, context, self.admin_site)
        return super().render_change_form(request, context, *args, **kwargs)

    def render_history_view(self, request, template, context, **kwargs):
        # django-simple-history's page of one earlier version (its list of versions is not
        # rendered here: ScopedHistoryAdminMixin prints the amounts of its changes).
        if "adminform" in context:
            print_readonly(request, context, self.admin_site)
        return super().render_history_view(request, template, context, **kwargs)


@cache
def money_column(model, name):
    """A list column of an amount, "15,000.00" instead of the admin's "15000.00", still sorted
    by the amount. Not USE_THOUSAND_SEPARATOR: that would print every number of every page with
    separators, years too ("2,026")."""
    field = model_field(model, name)
    if field is None or not is_money(field):
        return name
    column = ReadonlyValue(field, yuan_text, None)  # None: the list's own "-"
    column.admin_order_field = name
    return column


def model_field(model, name):
    """The model field a list or form names, or None (a method, a callable)."""
    if not isinstance(name, str):
        return None
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
