from datetime import timedelta

from django import forms
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orgs.models import Organisation, User
from orgs.pii import FULL_NUMBERS, mask_phone, masks_phones
from services.models import (
    Case,
    JobReferral,
    LegalAidCase,
    TrainingAttendee,
    TrainingCourse,
    Window,
)
from services.selectors import case_handlers
from services.services import CASE_CLOSED_MESSAGE, OUTCOME_REQUIRED_MESSAGE
from services.validators import normalise_id_number

RECEIVED_SLACK = timedelta(minutes=10)  # a counter PC's clock may run a little ahead
UNKNOWN_WINDOW_MESSAGE = _("请选择有效的窗口：所选窗口不存在或已停用。")

# Date inputs take only ISO values: the Chinese formats (2026/12/07) would leave them empty.
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
MONEY_INPUT = forms.NumberInput(attrs={"min": "0", "step": "0.01", "inputmode": "decimal"})
WORKER_WIDGETS = {
    "worker_name": forms.TextInput(attrs={"autocomplete": "off"}),
    "worker_phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    "worker_id_number": forms.TextInput(attrs={"maxlength": "18", "autocomplete": "off"}),
}


def _window_field(*, current: Window | None, numbered: bool) -> forms.ModelChoiceField:
    queryset = Window.objects.filter(is_active=True)
    if current is not None:
        queryset = Window.objects.filter(pk=current.pk) | queryset
    field = forms.ModelChoiceField(
        queryset=queryset.order_by("sort_order", "code"),
        to_field_name="code",
        label=_("窗口"),
        empty_label=None,
        error_messages={"invalid_choice": UNKNOWN_WINDOW_MESSAGE},
    )
    if numbered:
        # "1. 信访接待", "2. …": a clerk picks a window by typing its number.
        position = {pk: n for n, pk in enumerate(field.queryset.values_list("pk", flat=True), 1)}
        field.label_from_instance = lambda window: f"{position[window.pk]}. {window}"
    return field


def _organisations(user: User, record) -> QuerySet[Organisation]:
    """The organisations a record may belong to: a deactivated one takes no new records, a
    record already there keeps it (as a retired window keeps its cases, _window_field)."""
    return Organisation.objects.visible_to(user).filter(
        Q(is_active=True) | Q(pk=record.organisation_id)
    )


class WorkerFieldsMixin:
    kept_phone = ""  # the stored phone an empty box keeps (hide_stored_phone)

    def clean_worker_id_number(self):
        return normalise_id_number(self.cleaned_data.get("worker_id_number", ""))

    def clean_worker_phone(self):
        return self.cleaned_data.get("worker_phone", "") or self.kept_phone

    def hide_stored_id_number(self, user: User) -> None:
        """A stored ID number is never put in a form for a role that may not see it in full:
        the field goes and the number is kept as it is."""
        if self.instance.worker_id_number and not user.has_perm(FULL_NUMBERS):
            del self.fields["worker_id_number"]

    def hide_stored_phone(self, user: User) -> None:
        """A stored phone (the record's, or that of the case a referral starts from) is never
        put in a form for a role that sees phones masked (orgs.pii.masks_phones): the box is
        empty with the masked number shown, an empty box keeps the stored phone, and one typed
        replaces it, as the household form treats its ID number. (Unlike the ID number, the
        field stays: these roles correct a worker's phone.)"""
        stored = self.initial.get("worker_phone") or ""
        if stored and masks_phones(user):
            self.kept_phone = stored
            self.initial["worker_phone"] = ""
            field = self.fields["worker_phone"]
            field.widget.attrs["placeholder"] = mask_phone(stored)
            field.help_text = _("当前：%(masked)s。留空表示不修改。") % {
                "masked": mask_phone(stored)
            }


class CaseForm(WorkerFieldsMixin, forms.ModelForm):
    """The case log entry. Closed cases are refused: reopen first (issue 5, "Bad input")."""

    class Meta:
        model = Case
        fields = [
            "worker_name",
            "worker_phone",
            "worker_id_number",
            "matter",
            "window",
            "channel",
            "outcome",
            "follow_up_on",
            "received_at",
            "handler",
            "organisation",
        ]
        widgets = {
            **WORKER_WIDGETS,
            "matter": forms.Textarea(attrs={"rows": 3}),
            "outcome": forms.Textarea(attrs={"rows": 3}),
            "follow_up_on": DATE_INPUT,
            "received_at": DATETIME_INPUT,
        }

    numbered_windows = False

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        current = self.instance.window if self.instance.window_id else None
        self.fields["window"] = _window_field(current=current, numbered=self.numbered_windows)
        if current is not None and self.initial.get("window") == current.pk:
            # The field is keyed by code: with the pk the instance gives, no option would be
            # selected and the browser would send the first window.
            self.initial["window"] = current.code
        # Those who may handle the user's cases; the service checks them against the case's
        # organisation. The case's handler stays (never checked again while unchanged).
        handlers = Q(pk__in=case_handlers(user=user).values("pk"))
        if self.instance.handler_id:
            handlers |= Q(pk=self.instance.handler_id)
        self.fields["handler"].queryset = User.objects.filter(handlers).order_by("username")
        self.fields["organisation"].queryset = _organisations(user, self.instance)
        self.fields["organisation"].empty_label = None
        if user.organisation_id and not self.instance.pk and not self.initial.get("organisation"):
            self.initial["organisation"] = user.organisation_id
        # The earlier cases of this worker show while name, phone or ID are typed (htmx).
        # Posted with the form (its CSRF token): an ID number never goes in a URL.
        lookup = {
            "hx-post": reverse("services:earlier_cases"),
            "hx-trigger": "input changed delay:300ms, change",
            "hx-target": "#earlier-cases",
            "hx-include": "#id_worker_name, #id_worker_phone, #id_worker_id_number",
            "hx-sync": "closest form:replace",
        }
        if self.instance.pk:
            lookup["hx-vals"] = f'{{"exclude": "{self.instance.pk}"}}'
        for name in ("worker_name", "worker_phone", "worker_id_number"):
            self.fields[name].widget.attrs.update(lookup)
        self.hide_stored_id_number(user)
        self.hide_stored_phone(user)
        if self.instance.pk:
            # The date shown, posted back: a follow-up recorded while the form was open keeps
            # its date unless this one is changed (services.case_update).
            self.fields["follow_up_on_shown"] = forms.DateField(
                required=False, widget=forms.HiddenInput, initial=self.instance.follow_up_on
            )

    def clean_received_at(self):
        received = self.cleaned_data.get("received_at")
        if received is None:
            return received
        if received > timezone.now() + RECEIVED_SLACK:
            raise forms.ValidationError(_("登记时间不能晚于现在。"))
        if received.year < 2000:
            raise forms.ValidationError(_("登记时间不能早于 2000 年。"))
        return received

    def clean(self):
        if self.instance.pk and self.instance.is_closed:
            raise forms.ValidationError(CASE_CLOSED_MESSAGE, code="case_closed")
        return super().clean()


class QuickCaseForm(CaseForm):
    """The counter form: one-line inputs so that Enter saves, numbered windows, sensible
    defaults (a visit, now, this clerk, the clerk's organisation and last window)."""

    close_now = forms.BooleanField(label=_("当场办结"), required=False)
    numbered_windows = True

    class Meta(CaseForm.Meta):
        widgets = {
            **CaseForm.Meta.widgets,
            "matter": forms.TextInput(attrs={"autocomplete": "off"}),
            "outcome": forms.TextInput(attrs={"autocomplete": "off"}),
        }

    field_order = [
        "worker_name",
        "worker_phone",
        "worker_id_number",
        "matter",
        "window",
        "channel",
        "outcome",
        "close_now",
        "follow_up_on",
        "received_at",
        "handler",
        "organisation",
    ]

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self.fields["worker_name"].widget.attrs["autofocus"] = True
        self.fields["channel"].choices = [
            (value, f"{number}. {label}")
            for number, (value, label) in enumerate(Case.Channel.choices, start=1)
        ]
        self.initial["received_at"] = timezone.localtime().replace(second=0, microsecond=0)
        if not self.initial.get("handler"):
            self.initial["handler"] = user.pk
        if not self.initial.get("window"):
            self.initial["window"] = (
                Case.objects.filter(created_by=user, window__is_active=True)
                .order_by("-pk")
                .values_list("window__code", flat=True)
                .first()
            )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("close_now") and not (cleaned.get("outcome") or "").strip():
            self.add_error("outcome", OUTCOME_REQUIRED_MESSAGE)
        return cleaned


class CloseCaseForm(forms.Form):
    outcome = forms.CharField(label=_("办理结果"), widget=forms.Textarea(attrs={"rows": 3}))


class ReferCaseForm(forms.Form):
    referred_to = forms.CharField(label=_("转办单位"), max_length=100)
    note = forms.CharField(
        label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReopenCaseForm(forms.Form):
    reason = forms.CharField(label=_("重新打开的原因"), widget=forms.Textarea(attrs={"rows": 2}))


class FollowUpForm(forms.Form):
    note = forms.CharField(
        label=_("跟进情况"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("如：电话回访，职工表示单位已补发工资。"),
    )
    next_on = forms.DateField(
        label=_("下次跟进日期"),
        required=False,
        widget=DATE_INPUT,
        help_text=_("不填表示不再安排跟进；案件仍未办结，办结请用“办结”。"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["next_on"].widget.attrs["min"] = timezone.localdate().isoformat()


class LegalAidForm(forms.ModelForm):
    class Meta:
        model = LegalAidCase
        fields = [
            "dispute_type",
            "employer",
            "lawyer",
            "fees_waived",
            "wages_recovered",
            "is_migrant_worker",
            "outcome",
        ]
        widgets = {
            "fees_waived": MONEY_INPUT,
            "wages_recovered": MONEY_INPUT,
            "outcome": forms.Textarea(attrs={"rows": 3}),
        }

    def clean(self):
        if self.instance.case.is_closed:
            raise forms.ValidationError(CASE_CLOSED_MESSAGE, code="case_closed")
        return super().clean()


def _organisation_field(form: forms.ModelForm, user: User) -> None:
    field = form.fields["organisation"]
    field.queryset = _organisations(user, form.instance)
    field.empty_label = None
    if user.organisation_id and not form.instance.pk:
        field.initial = user.organisation_id


class JobReferralForm(WorkerFieldsMixin, forms.ModelForm):
    class Meta:
        model = JobReferral
        fields = [
            "worker_name",
            "worker_phone",
            "worker_id_number",
            "employer",
            "position",
            "referred_on",
            "result",
            "note",
            "organisation",
            "case",
        ]
        widgets = {
            **WORKER_WIDGETS,
            "referred_on": DATE_INPUT,
            "note": forms.Textarea(attrs={"rows": 2}),
            "case": forms.HiddenInput,
        }

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        _organisation_field(self, user)
        self.fields["referred_on"].widget.attrs["max"] = timezone.localdate().isoformat()
        self.fields["case"].queryset = Case.objects.visible_to(user)
        self.hide_stored_id_number(user)
        self.hide_stored_phone(user)  # also the case's, from JobReferralEditView.get_initial

    def save(self, commit=True):
        # A referral started from a case takes the case's ID number on the server: the form
        # only carries it to roles that may see it in full (JobReferralEditView.get_initial).
        referral = self.instance
        if not referral.pk and not referral.worker_id_number and referral.case_id:
            referral.worker_id_number = referral.case.worker_id_number
        return super().save(commit)


class TrainingCourseForm(forms.ModelForm):
    class Meta:
        model = TrainingCourse
        fields = ["name", "starts_on", "ends_on", "organisation", "description"]
        widgets = {
            "starts_on": DATE_INPUT,
            "ends_on": DATE_INPUT,
            "description": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        _organisation_field(self, user)


class TrainingAttendeeForm(WorkerFieldsMixin, forms.ModelForm):
    class Meta:
        model = TrainingAttendee
        fields = [
            "worker_name",
            "worker_phone",
            "worker_id_number",
            "certificate_obtained",
            "certificate_name",
        ]
        widgets = WORKER_WIDGETS

    def __init__(self, *args, user: User | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if user is not None:
            self.hide_stored_id_number(user)
            self.hide_stored_phone(user)
