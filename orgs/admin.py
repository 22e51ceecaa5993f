from collections import defaultdict

from axes import admin as axes_admin
from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from axes.models import AccessLog as AxesAccessLog
from django import forms
from django.apps import apps
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm as DjangoAdminPasswordChangeForm
from django.contrib.auth.forms import SetUnusablePasswordMixin
from django.contrib.auth.forms import UserChangeForm as DjangoUserChangeForm
from django.contrib.auth.models import Group
from django.db.models import Exists, OuterRef, Q
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.text import capfirst, format_lazy
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from orgs.models import AccessLog, Holiday, Organisation, User
from orgs.roles import ADMIN_SITE_ROLES, Role, may_manage_administrators
from orgs.scoping import ScopedAdminMixin, ScopedHistoryAdminMixin, keeps_national
from orgs.text import listing


class OrganisationForm(forms.ModelForm):
    """The tree is not kept historically: reports sum an organisation's subtree as it is
    today, over the file history of every organisation in it. Moving an organisation with
    files under another parent moves those files, past years included, from the old parent's
    reports into the new one's, so it is refused until the superuser confirms it."""

    confirm_move = forms.BooleanField(
        label=_("确认调整上级组织"),
        required=False,
        help_text=_("调整有档案的组织的上级时勾选：原上级和新上级过去各年的统计报表都会随之改变。"),
    )

    def clean(self):
        cleaned = super().clean()
        if self.moves_files() and not cleaned.get("confirm_move"):
            self.add_error(
                "parent",
                _(
                    "本组织及其下级有困难职工档案（%(households)d 户）。组织树不保留历史："
                    "调整上级后，这些档案过去各年的数字都改算到新上级，原上级组织和新上级组织"
                    "过去各年的统计报表都会随之改变。确需调整的，请勾选“确认调整上级组织”后保存。"
                )
                % {"households": self.households_moved()},
            )
        return cleaned

    def moves_files(self) -> bool:
        """An existing organisation given another parent, with files in its subtree."""
        return bool(self.instance.pk and "parent" in self.changed_data and self.households_moved())

    def households_moved(self) -> int:
        """The households whose history lies in the subtree: the reports place them by it."""
        if not hasattr(self, "_households_moved"):
            from households.models import Transition  # households builds on orgs

            old_path = Organisation.objects.get(pk=self.instance.pk).path
            self._households_moved = (
                Transition.objects.filter(organisation__path__startswith=old_path)
                .values("household_id")
                .distinct()
                .count()
            )
        return self._households_moved


@admin.register(Organisation)
class OrganisationAdmin(ScopedAdminMixin, admin.ModelAdmin):
    form = OrganisationForm
    list_display = ["code", "name", "level", "parent", "is_active"]
    list_filter = ["level", "is_active"]
    search_fields = ["code", "name"]
    list_select_related = ["parent"]
    readonly_fields = ["path"]
    fieldsets = [
        (None, {"fields": ["code", "name", "level", "parent", "path", "is_active"]}),
        (
            _("业务设置（留空沿用上级）"),
            {
                "fields": [
                    "stock_baseline_date",
                    "notice_min_working_days",
                    "eligibility_multiple",
                    "income_rule",
                    "category_scheme",
                    "survey_interval_months",
                    "exit_rate_goal",
                ]
            },
        ),
    ]

    def has_delete_permission(self, request, obj=None):
        return False  # organisations own records that are never deleted; deactivate instead

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and request.user.is_superuser:
            # Only a superuser changes a parent (get_readonly_fields): the confirmation of a
            # move of an organisation with files (OrganisationForm).
            main = {**fieldsets[0][1], "fields": [*fieldsets[0][1]["fields"], "confirm_move"]}
            fieldsets = [(fieldsets[0][0], main), *fieldsets[1:]]
        return fieldsets

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and getattr(form, "moves_files", lambda: False)():
            self.message_user(
                request,
                _(
                    "%(organisation)s 已调整到 %(parent)s 之下，其 %(households)d 户档案过去各年的"
                    "数字随之改算：原上级组织和新上级组织过去各年的统计报表已经改变。"
                )
                % {
                    "organisation": obj,
                    "parent": obj.parent,
                    "households": form.households_moved(),
                },
                messages.WARNING,
            )
        if not change or not {"notice_min_working_days", "parent"} & set(form.changed_data):
            return
        # A longer minimum lengthens the notices still running there (a shorter one shortens
        # none): the households app builds on this one, hence the import here.
        from households.services import notices_follow_calendar

        moved = notices_follow_calendar(user=request.user, organisation=obj)
        if moved:
            notices = listing(
                _("%(title)s（至 %(end)s）") % {"title": notice.title, "end": notice.ends_on}
                for notice in moved
            )
            self.message_user(
                request,
                _("以下进行中的公示结束日期已按新的公示最少工作日顺延：%(notices)s。")
                % {"notices": notices},
                messages.WARNING,
            )

    def get_readonly_fields(self, request, obj=None):
        # The tree is kept from above: below the top, an organisation's place (parent, level,
        # code, hence its path and its scope) is not changed by those inside it, or a county
        # could cut itself loose from the union above and from its standards.
        if obj is not None and not request.user.is_superuser:
            # Shown read-only, the parent is a link only to those who may open it
            # (orgs/readonly.py): the union above a county's own answers the county 404.
            return ["code", "level", "parent", "path"]
        return super().get_readonly_fields(request, obj)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if obj is None and not request.user.is_superuser:

            class NewUnderParent(UnderParent, form):
                pass

            return NewUnderParent
        return form


class UnderParent:
    """A new organisation of a non-superuser: inside their subtree (the parent field lists
    only it) and one level below its parent."""

    def clean(self):
        cleaned = super().clean()
        parent, level = cleaned.get("parent"), cleaned.get("level")
        if parent is None:
            self.add_error("parent", _("请选择上级组织。"))
        elif level and LEVELS.index(level) != LEVELS.index(parent.level) + 1:
            self.add_error(
                "level",
                _("层级应比上级组织（%(level)s）低一级。") % {"level": parent.get_level_display()},
            )
        code = cleaned.get("code") or ""
        if parent is not None and level == Organisation.Level.BASE and code:
            # 基层工会在县代码后加序号: another county's prefix would take its codes for good
            # (codes are unique and, once saved, only a superuser changes them).
            # Codes are one whatever the case of their letters: "4501ab001" continues "4501AB",
            # and is kept with the county's prefix as the county writes it.
            if not code.upper().startswith(parent.code.upper()) or len(code) == len(parent.code):
                self.add_error(
                    "code",
                    _("基层工会的代码应为上级组织代码 %(code)s 后加序号，如 %(code)s001。")
                    % {"code": parent.code},
                )
            else:
                cleaned["code"] = parent.code + code[len(parent.code) :]
        return cleaned


LEVELS = [choice for choice, _label in Organisation.Level.choices]  # top to bottom


@admin.register(Holiday)
class HolidayAdmin(ScopedHistoryAdminMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    """Holidays decide notice periods. Administrators see the national calendar and their
    subtree's days and change only the latter (another county's day answers 404); the
    national calendar is kept at the top of the tree (or by a superuser)."""

    list_display = ["date", "name", "is_working_day", "organisation"]
    list_filter = ["is_working_day"]
    list_select_related = ["organisation"]
    date_hierarchy = "date"

    def get_queryset(self, request):
        queryset = admin.ModelAdmin.get_queryset(self, request)
        if request.user.is_superuser:
            return queryset
        own = Organisation.objects.visible_to(request.user)
        return queryset.filter(Q(organisation__isnull=True) | Q(organisation__in=own))

    def keeps_national(self, request) -> bool:
        return keeps_national(request.user)

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.organisation_id is None and not self.keeps_national(request):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.organisation_id is None and not self.keeps_national(request):
            return False  # also keeps them out of "delete selected"
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        # A day changed to another organisation leaves the old one's calendar as if deleted:
        # the notices running there are worked out again too, not only the new one's.
        old = Holiday.objects.get(pk=obj.pk).organisation if change else obj.organisation
        super().save_model(request, obj, form, change)
        self.follow_calendar(request, {old, obj.organisation})

    def delete_model(self, request, obj):
        # A make-up working day (调休) deleted is a day off again: as a holiday entered.
        super().delete_model(request, obj)
        self.follow_calendar(request, [obj.organisation])

    def delete_queryset(self, request, queryset):
        organisations = {
            holiday.organisation for holiday in queryset.select_related("organisation")
        }
        super().delete_queryset(request, queryset)
        self.follow_calendar(request, organisations)

    def follow_calendar(self, request, organisations):
        """Notices already posted would end before their working days have run. The households
        app builds on this one, hence the import here."""
        from households.services import notices_follow_calendar

        if None in organisations:  # the national calendar: every notice
            organisations = [None]
        moved = {}
        for organisation in organisations:
            for notice in notices_follow_calendar(user=request.user, organisation=organisation):
                moved[notice.pk] = notice
        moved = list(moved.values())
        if moved:
            notices = listing(
                _("%(title)s（至 %(end)s）") % {"title": notice.title, "end": notice.ends_on}
                for notice in moved
            )
            self.message_user(
                request,
                _("以下进行中的公示结束日期已按新的节假日顺延：%(notices)s。")
                % {"notices": notices},
                messages.WARNING,
            )

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if "organisation" in form.base_fields and not self.keeps_national(request):
            form.base_fields["organisation"].required = True  # blank would mean nationwide
        return form


class RoleFilter(admin.SimpleListFilter):
    """Roles by their names (录入员, 审核审批 …), not the codes of the groups behind them."""

    title = _("角色")
    parameter_name = "role"

    def lookups(self, request, model_admin):
        return Role.choices

    def queryset(self, request, queryset):
        if self.value() in Role.values:
            return queryset.filter(groups__name=self.value())
        return queryset


class UserChangeForm(DjangoUserChangeForm):
    def clean_username(self):
        # The add form refuses "Admin_450000" beside "admin_450000"; so does a rename (the two
        # would read the same in the logs and in the admin's upper-cased header).
        username = self.cleaned_data["username"]
        taken = User.objects.filter(username__iexact=username).exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(User._meta.get_field("username").error_messages["unique"])
        return username


class AdministratorRoleGuard:
    """The account form of a non-superuser: the administrator role goes only to accounts of
    the unions below the requester's (roles.may_manage_administrators), when creating an
    account, ticking the role or moving an administrator to another organisation alike."""

    requester = None

    def clean(self):
        cleaned = super().clean()
        groups = cleaned.get("groups")
        if groups is None:  # not on the form (one's own account) or refused already
            return cleaned
        organisation = cleaned.get("organisation", self.instance.organisation)
        if any(group.name == Role.ADMIN for group in groups) and not may_manage_administrators(
            self.requester, organisation
        ):
            self.add_error(
                "groups",
                _("系统管理员账号由上级组织的系统管理员设立：您只能为下级组织的用户授予该角色。"),
            )
        return cleaned


class AdminPasswordChangeForm(DjangoAdminPasswordChangeForm):
    """Django joins the help text of "password-based authentication" to its warning when the
    module is imported, in the language then active: English pages showed it in Chinese, and
    the warning, never marked for translation, was English on Chinese pages. Joined lazily."""

    usable_password_help_text = format_lazy(
        '{}<ul id="id_unusable_warning" class="messagelist"><li class="warning">{}</li></ul>',
        SetUnusablePasswordMixin.usable_password_help_text,
        _("如果禁用，该用户当前的密码将会丢失。"),
    )


@admin.register(User)
class UserAdmin(ScopedAdminMixin, DjangoUserAdmin):
    form = UserChangeForm
    change_password_form = AdminPasswordChangeForm
    list_display = ["username", "full_name", "organisation", "is_active", "last_login"]
    actions = ["unlock_logins"]
    list_filter = ["is_active", RoleFilter, "organisation__level"]
    search_fields = ["username", "full_name", "organisation__name", "organisation__code"]
    list_select_related = ["organisation"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        (_("个人信息"), {"fields": ["full_name", "email", "organisation"]}),
        (_("角色"), {"fields": ["is_active", "groups"]}),
        (_("登录记录"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "fields": [
                    "username",
                    "full_name",
                    "organisation",
                    "groups",
                    "password1",
                    "password2",
                ]
            },
        ),
    ]
    readonly_fields = ["last_login", "date_joined"]
    filter_horizontal = ()  # five roles: boxes to tick, under their names (not the group codes)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "groups":
            kwargs["widget"] = forms.CheckboxSelectMultiple
            field = super().formfield_for_manytomany(db_field, request, **kwargs)
            labels = dict(Role.choices)
            field.label_from_instance = lambda group: labels.get(group.name, group.name)
            return field
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and not self.has_change_permission(request, obj):
            # Who only reads users (a supervisor) gets neither the password hash's details nor
            # Django's "reset password" button, whose page answers them 403.
            fieldsets = [
                (name, {**options, "fields": [f for f in options["fields"] if f != "password"]})
                for name, options in fieldsets
            ]
        if request.user.is_superuser and obj is not None:
            fieldsets = [*fieldsets, (_("超级权限"), {"fields": ["is_staff", "is_superuser"]})]
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.pk == request.user.pk and not request.user.is_superuser:
            # Nobody widens their own roles or scope (an administrator making themselves an
            # approver or moving out of their county): another administrator does it.
            readonly += ["organisation", "groups", "is_active"]
        return readonly

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if not request.user.is_superuser:
            # A superuser is only another superuser's to edit: an administrator of the county
            # a superuser is attached to could otherwise set its password or deactivate it.
            queryset = queryset.filter(is_superuser=False)
        return queryset.annotate(
            login_locked=Exists(locked(AccessAttempt.objects.filter(username=OuterRef("username"))))
        )

    def get_list_display(self, request):
        columns = super().get_list_display(request)
        if self.attempts_admin.has_view_permission(request):
            columns = [*columns, "login_lock"]  # who may see the lockouts
        return columns

    @admin.display(description=_("登录锁定"))
    def login_lock(self, user):
        return _("已锁定") if user.login_locked else ""

    @property
    def attempts_admin(self):
        """The admin of the failed logins: its permissions and scope decide every unlock."""
        return self.admin_site._registry[AccessAttempt]

    def has_unlock_permission(self, request):
        return self.attempts_admin.has_delete_permission(request)

    @admin.action(permissions=["unlock"], description=_("解除登录锁定"))
    def unlock_logins(self, request, queryset):
        """解除登录锁定 of the selected users, in two steps as Django's delete: the users and
        their locked addresses, then (post=yes) each lockout is deleted, as from the user's
        page, and the list says whose."""
        locks = locked(self.attempts_admin.get_queryset(request)).filter(
            username__in=queryset.values("username")
        )
        if request.POST.get("post") == "yes":
            unlocked = sorted({attempt.username for attempt in locks})
            if unlocked:
                self.attempts_admin.log_deletions(request, locks)
                self.attempts_admin.delete_queryset(request, locks)
                self.message_user(
                    request,
                    _("已解除 %(username)s 的登录锁定。") % {"username": listing(unlocked)},
                    messages.SUCCESS,
                )
            else:
                self.message_user(request, _("所选用户都没有被锁定。"), messages.WARNING)
            return None  # back to the list, its filters kept
        addresses = {}
        for attempt in locks.order_by("ip_address"):
            addresses.setdefault(attempt.username, []).append(attempt.ip_address or "-")
        opts = self.model._meta
        request.current_app = self.admin_site.name
        return TemplateResponse(
            request,
            "admin/orgs/user/unlock_confirmation.html",
            {
                **self.admin_site.each_context(request),
                "title": _("解除登录锁定"),
                "opts": opts,
                "queryset": queryset,
                "rows": [
                    (user, listing(addresses.get(user.username, [])))
                    for user in queryset.order_by("username")
                ],
                "locked": bool(addresses),
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
            },
        )

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if not request.user.is_superuser:
            # Subclassed before the fields are narrowed: a ModelForm's subclass builds its
            # fields anew from the model.
            class Guarded(AdministratorRoleGuard, form):
                requester = request.user

            form = Guarded
            groups = form.base_fields.get("groups")
            if groups is not None:
                # The roles, not another group a superuser made (whatever its permissions);
                # one the account holds already stays ticked.
                held = obj.groups.all() if obj is not None else Group.objects.none()
                groups.queryset = groups.queryset.filter(Q(name__in=Role.values) | Q(pk__in=held))
        field = form.base_fields.get("organisation")
        if field is not None:
            if not request.user.is_superuser:
                field.required = True  # else out of everyone's scope
            # A deactivated organisation takes no new users (one already there keeps it).
            current = obj.organisation_id if obj is not None else None
            field.queryset = field.queryset.filter(Q(is_active=True) | Q(pk=current))
        return form

    def has_change_permission(self, request, obj=None):
        # Another administrator of one's own union (or of one above) is read-only here, its
        # password too: the union above keeps them (roles.may_manage_administrators).
        if (
            obj is not None
            and obj.pk != request.user.pk
            and obj.has_role(Role.ADMIN)
            and not may_manage_administrators(request.user, obj.organisation)
        ):
            return False
        return super().has_change_permission(request, obj)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        user = form.instance
        # Admin-site access follows the roles, so nobody has to remember the "staff" box.
        wants_staff = user.is_superuser or user.groups.filter(name__in=ADMIN_SITE_ROLES).exists()
        if user.is_staff != wants_staff:
            user.is_staff = wants_staff
            user.save(update_fields=["is_staff"])

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate users instead, their names stay on the records they signed

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """A locked-out user's page offers 解除登录锁定 per locked address (the attempt's delete
        page, which comes back here)."""
        extra_context = dict(extra_context or {})
        user = self.get_object(request, object_id)
        if user is not None and request.user.has_perm("axes.delete_accessattempt"):
            back = urlencode({UNLOCK_NEXT: request.path})
            extra_context["login_locks"] = [
                (attempt, f"{reverse('admin:axes_accessattempt_delete', args=[attempt.pk])}?{back}")
                for attempt in locked(AccessAttempt.objects.filter(username=user.username))
            ]
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(AccessLog)
class AccessLogAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Read-only: administrators search it, nobody edits or deletes it (old entries go only
    through `manage.py prune_access_log`, after the retention period)."""

    list_display = ["at", "user", "action", "organisation", "ip_address", "detail"]
    list_filter = [
        "action",
        ("at", admin.DateFieldListFilter),
        ("user", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["user__username", "user__full_name", "target", "ip_address", "detail"]
    date_hierarchy = "at"
    list_select_related = ["user", "organisation"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_list_display(self, request):
        at, user, action, *rest = super().get_list_display(request)
        return [at, user, action, TargetColumn(request, self.admin_site), *rest]

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        for column in changelist.list_display:
            if isinstance(column, TargetColumn):
                column.prepare(changelist.result_list)
        return changelist


class TargetColumn:
    """The log's 对象 column: "困难职工档案 279" instead of "households.Household:279", a link
    to its admin page only where the user may open that page (a file since moved to another
    county, or a page the role has no access to, would answer 404 or 403). The page's entries
    are checked together, one query per kind of target."""

    __name__ = "target_name"
    short_description = _("对象")
    admin_order_field = "target"

    def __init__(self, request, admin_site):
        self.request, self.site = request, admin_site
        self.openable = set()

    @staticmethod
    def parse(target: str):
        label, _sep, pk = target.partition(":")
        try:
            return apps.get_model(label), pk
        except (LookupError, ValueError):
            return None, pk

    def prepare(self, entries):
        wanted = defaultdict(set)
        for entry in entries:
            model, pk = self.parse(entry.target)
            if model in self.site._registry and pk.isdigit():
                wanted[model].add(pk)
        for model, pks in wanted.items():
            target = self.site._registry[model]
            if target.has_view_or_change_permission(self.request):
                found = target.get_queryset(self.request).filter(pk__in=pks)
                self.openable |= {(model, str(pk)) for pk in found.values_list("pk", flat=True)}

    def __call__(self, entry):
        model, pk = self.parse(entry.target)
        if model is None:
            return entry.target
        text = f"{capfirst(model._meta.verbose_name)} {pk}"
        if (model, pk) not in self.openable:
            return text
        opts = model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[pk])
        return format_html('<a href="{}">{}</a>', url, text)


# --- Login throttling (django-axes): its admin, scoped to the users of one's subtree ------------

UNLOCK_NEXT = "next"  # the page an unlock (deleting an attempt) returns to


def locked(attempts):
    """The lockouts among these failed logins: a username and address at the limit of failures
    within the cool-off (as axes decides: older rows no longer lock, and go at the next
    attempt). Deleting the row unlocks that pair at once."""
    return attempts.filter(
        failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
        attempt_time__gte=timezone.now() - get_cool_off(),
    )


class LoginRecordScopeMixin:
    """Axes keys its rows by username; a county administrator sees those of the users in the
    county's subtree (attempts on unknown usernames: superusers only). A superuser's are another
    superuser's only, as the superuser is (UserAdmin): lifting its lockout is no county's call."""

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        users = User.objects.visible_to(request.user).filter(is_superuser=False)
        return queryset.filter(username__in=users.values("username"))

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        raise Http404  # another county's row is not found, as everywhere else


@admin.register(AccessAttempt)
class LoginAttemptAdmin(LoginRecordScopeMixin, axes_admin.AccessAttemptAdmin):
    """Failed logins and lockouts. Deleting the row (删除) unlocks the username at once."""

    actions = []  # axes' "clean up expired attempts" would reach other counties' rows

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        request.unlocked_username = obj.username

    def response_delete(self, request, obj_display, obj_id):
        """Back to where the unlock started (the user's page, through `next`), else to this
        list — Django sends those who may not change rows to the admin index."""
        self.message_user(
            request,
            _("已解除 %(username)s 的登录锁定。") % {"username": request.unlocked_username},
            messages.SUCCESS,
        )
        back = request.GET.get(UNLOCK_NEXT, "")
        admin_root = reverse("admin:index")
        if not (
            back.startswith(admin_root)
            and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()})
        ):
            back = reverse("admin:axes_accessattempt_changelist")
        return redirect(back)


@admin.register(AxesAccessLog)
class LoginLogAdmin(LoginRecordScopeMixin, axes_admin.AccessLogAdmin):
    """Successful logins and logouts: read-only, pruned with the access log."""

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
