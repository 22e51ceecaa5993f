"""The permission matrix: what every role gets from every URL of the site and every admin action.

It lives with the tests, not in the product, on purpose. The product already has one source of
truth for permissions — the `ROLE_PERMISSIONS` tables of each app's `permissions.py`, the views'
`permission_required` and the services' own checks — and no view could read this table without
being rewritten around it. This table is the independent statement of what those should add up
to, written by hand: deriving it from the permission tables would only test them against
themselves. A change of permissions therefore has to be made twice, in the product and here, and
`test_matrix.py` fails until both agree; a new URL or admin action fails until it is added here.

Roles are the demo users of county A (兴宁区 450102, the city viewer 南宁 450100) working on
county A's records; the same roles from elsewhere (青秀区 450103, the viewer of 柳州 450200) get
404 on every record-scoped URL their role may otherwise open. Outcomes:

    OK      200, or a redirect (302, 303) anywhere but a login page (a valid form moves on)
    LOGIN   a redirect to a login page (anonymous; non-staff users on the admin site)
    403     the role may not do this
    404     not found: another county's record, or a page that does not exist for anyone
    int     exactly that status (405, 302 for the admin's own redirects)
"""

from dataclasses import dataclass, field

ROLES = ("clerk", "supervisor", "finance", "viewer", "admin")
OK, LOGIN = "ok", "login"

ALL = "clerk supervisor finance viewer admin"
STAFF = "supervisor finance admin"  # the roles with the admin site (orgs.roles.ADMIN_SITE_ROLES)
MONEY = "supervisor finance viewer admin"
NOBODY = ""
CSA = "clerk supervisor admin"  # the counter's records: who enters or changes them
CSF = "clerk supervisor finance"  # the roles that see full ID numbers


@dataclass(frozen=True)
class Rule:
    """Who may use one URL. `get`/`post`: the roles allowed to send that method (None: the
    method is not checked for this URL); `args`: names of dataset records (or literal values)
    that fill the URL; `scoped`: the record belongs to county A, so other counties get 404."""

    args: tuple = ()
    get: str | None = ALL
    post: str | None = None
    scoped: bool = False
    query: str = ""  # "{name}" takes a dataset record's key
    ok: object = OK  # what an allowed role gets
    refused: object = 403  # what the other roles get
    anonymous: object = LOGIN
    special: dict = field(default_factory=dict)  # {(method, role): outcome}
    xfail: str = ""  # a reason when the view itself is known to crash
    # the record is looked up before the permission is checked (Django's history pages):
    # another county's staff get 404 whatever their role
    lookup_first: bool = False


def R(*args, **kwargs) -> Rule:
    return Rule(args=args, **kwargs)


def obj(*args, **kwargs) -> Rule:
    """A URL about one county A record."""
    return Rule(args=args, scoped=True, **kwargs)


# --- Staff pages, downloads and htmx fragments --------------------------------------------------

PAGES: dict[str, Rule] = {
    # orgs: the shell and authentication
    "home": R(get=ALL),
    "login": R(get=ALL, ok=302, anonymous=200),  # a signed-in user is sent home
    "logout": R(get=None, post=ALL, ok=LOGIN, anonymous=LOGIN),  # then the login page
    "password_change": R(get=ALL, post=ALL),
    "set_language": R(get=None, post=ALL, ok=302, anonymous=302),
    "favicon": R(get=ALL, ok=302, anonymous=302),  # a redirect to the static icon
    # households
    # the search form is posted (an ID number stays out of the address): a redirect to the list
    "households:list": R(get=ALL, post=ALL),
    "households:list_total": R(get=ALL),  # htmx fragment of the list: how many files match
    "households:standing": R(get=ALL),
    "households:create": R(get="clerk", post="clerk"),
    # 为其建档: the form started from a county A case (?case=); another county's case is 404
    "households:create[case]": obj(get="clerk", post="clerk", query="case={case}"),
    "households:preview": R(get=None, post="clerk"),  # htmx fragment of the entry form
    "households:notice_start": R(get="clerk", post="clerk"),
    "households:notice_pdf": obj("public_notice", get="clerk supervisor viewer admin"),
    "households:detail": obj("on_file", get=ALL, post=None),
    # 打印档案表: whoever opens the file prints it (numbers in full for CSF only: its own tests)
    "households:file_pdf": obj("on_file", get=ALL),
    # 告知书 of a closed or refused file: the staff who handle files (its own tests)
    "households:letter_pdf": obj("refused", get="clerk supervisor"),
    "households:edit": obj("draft", get="clerk", post="clerk"),
    "households:reveal": obj("on_file", get=None, post=CSF),
    "households:transition": obj("draft", "submit", get="clerk", post="clerk"),
    "households:transition[approve]": obj("notice", "approve", get="supervisor", post="supervisor"),
    "households:transition[reject]": obj("notice", "reject", get="supervisor", post="supervisor"),
    "households:transition[unknown]": obj("draft", "relieve", get=NOBODY, refused=404),
    "households:survey": obj("on_file", get="clerk", post="clerk"),
    "households:closure_request": obj("on_file", get="clerk", post="clerk"),
    "households:objection_create": obj("notice", get="clerk", post="clerk"),
    "households:document_upload": obj("draft", get="clerk", post="clerk"),
    "households:closure_decide": obj("closure", get="supervisor", post="supervisor"),
    # decided by who may approve the file (not who entered it: see the services' tests)
    "households:objection_resolve": obj("objection", get="supervisor", post="supervisor"),
    "households:document_download": obj("document", get="clerk supervisor"),
    "households:document_withdraw": obj("document", get="clerk", post="clerk"),
    # the yearly spot-check of files: read by who reads the files, drawn by the supervisor (who
    # reviews the clerks' files), recorded by the clerks who visit the households
    "households:spotcheck_list": R(get="clerk supervisor viewer admin", post="supervisor"),
    "households:spotcheck_detail": obj("spotcheck", get="clerk supervisor viewer admin"),
    "households:spotcheck_record": obj("spotcheck_item", get="clerk", post="clerk"),
    # 逾期录入: changes recorded more than 30 working days late, for who approves the files
    "households:late_entries": R(get="supervisor"),
    # funds
    "funds:index": R(get=MONEY),
    # the search forms are posted (an ID number stays out of the address): a redirect back
    "funds:request_list": R(get="clerk supervisor finance viewer",
                            post="clerk supervisor finance viewer"),
    "funds:household_pick": R(get="clerk", post="clerk", query="q=张"),
    # 批量申请帮扶: who may request (the single request's rule); a posted preview writes nothing
    "funds:request_batch": R(get="clerk", post="clerk"),
    "funds:request_create": obj("money", get="clerk", post="clerk"),
    "funds:household_year": obj("money", get="clerk supervisor finance viewer"),  # htmx
    # htmx beside the request form, posted with it (the 申请理由 stays out of URLs); GET refused
    "funds:request_standard": obj("money", get="clerk", post="clerk",
                                  special={("get", "clerk"): 405}),
    "funds:request_detail": obj("new", get="clerk supervisor finance viewer"),
    "funds:request_decide": obj("new", get="supervisor", post="supervisor"),
    "funds:request_cancel": obj("new", get=CSF, post=CSF),
    "funds:request_retry": obj("new", get=CSF, post=CSF),
    "funds:request_pay": obj("waiting", get="finance", post="finance"),
    "funds:request_fail": obj("waiting", get="finance", post="finance"),
    "funds:repayment_create": obj("paid", get="finance", post="finance"),
    "funds:receipt_list": R(get=MONEY),
    "funds:receipt_create": R(get="finance", post="finance"),
    "funds:refund_list": R(get=MONEY),
    "funds:refund_create": R(get="finance", post="finance"),
    "funds:ledger": R(get=MONEY),
    "funds:entry_reverse": obj("entry", get="finance", post="finance"),
    "funds:closed_years": R(get=MONEY),
    # closing one: GET its confirmation (nothing written), POST closes it
    "funds:year_close": R(get="admin", post="admin"),
    "funds:batch_list": R(get="supervisor finance viewer", post="finance"),
    "funds:batch_detail": obj("batch", get="supervisor finance viewer", post="finance"),
    "funds:batch_download": obj("batch", get="finance"),  # full names, IDs and accounts
    "funds:sample_list": R(get="supervisor finance viewer", post="finance"),
    "funds:sample_detail": obj("sample", get="supervisor finance viewer"),
    "funds:verification_record": obj("item", get="finance", post="finance"),
    "funds:verification_resolve": obj("item", get="finance", post="finance"),
    "funds:discrepancies": R(get="supervisor finance viewer"),
    "funds:statement": R(get=MONEY),
    "funds:statement_xlsx": R(get=MONEY),  # an aggregate: no names, no numbers
    # receipts, payments (names, masked accounts) and refunds in the import layout
    "funds:export": R(get="finance admin"),
    # service centre
    "services:case_list": R(get=ALL, post=ALL),  # the search form posts, as the file list's
    "services:case_create": R(get="clerk admin", post="clerk admin"),
    # htmx hint, posted with the entry form (the ID number stays out of the URL); GET is refused
    "services:earlier_cases": R(get=CSA, post=CSA, special={("get", r): 405 for r in CSA.split()}),
    # POST on a case is 显示完整号码: only the roles that may see full ID numbers
    "services:case_detail": obj("case", get=ALL, post=CSF),
    "services:case_update": obj("case", get=CSA, post=CSA),
    "services:case_close": obj("case", get=CSA, post=CSA),
    "services:case_refer": obj("case", get=CSA, post=CSA),
    "services:case_reopen": obj("case", get=CSA, post=CSA),
    "services:case_follow_up": obj("case", get=CSA, post=CSA),
    "services:legal_aid_edit": obj("case", get=CSA, post=CSA,
                                   lookup_first=True),
    "services:legal_aid_list": R(get=ALL, post=ALL),
    "services:referral_list": R(get=ALL, post=ALL),
    "services:referral_create": R(get="clerk admin", post="clerk admin"),
    "services:referral_update": obj("referral", get=CSA, post=CSA),
    "services:course_list": R(get=ALL),
    "services:course_create": R(get="clerk admin", post="clerk admin"),
    "services:course_detail": obj("course", get=ALL),
    "services:course_update": obj("course", get=CSA, post=CSA),
    "services:attendee_create": obj("course", get="clerk admin", post="clerk admin"),
    "services:attendee_update": obj("attendee", get=CSA, post=CSA),
    "services:statistics": R(get=ALL),
    # imports and exports (imports/permissions.py): files in and out by kind; a job is its
    # creator's only (here county A's clerk), anybody else gets 404
    "imports:index": R(get="clerk supervisor finance admin"),
    "imports:template": R("households", get=CSA),
    "imports:template[funds]": R("funds", get="finance admin"),
    "imports:template[unknown]": R("nothing", get=NOBODY, refused=404),
    "imports:upload": R("households", get=CSA, post=CSA,
                        special={("post", r): 400 for r in ("clerk", "supervisor", "admin")}),
    "imports:upload[funds]": R("funds", get="finance admin", post="finance admin",
                               special={("post", r): 400 for r in ("finance", "admin")}),
    "imports:export": R("households", get=None, post=CSA),
    "imports:export[funds]": R("funds", get=None, post="finance admin"),
    "imports:job": obj("job", get="clerk", refused=404),
    "imports:job[rejected]": obj("rejected_job", get="clerk", refused=404),  # errors listed
    "imports:job_status": obj("job", get="clerk", refused=404),  # htmx progress
    "imports:confirm": obj("job", get=None, post="clerk", refused=404),
    "imports:restart": obj("job", get=None, post="clerk", refused=404),  # a stalled job
    "imports:download": obj("job", get="clerk", refused=404),
    # the check's error list: its uploader, and colleagues who may export its kind
    "imports:errors": obj("rejected_job", get=CSA, refused=404),
    # reports: summaries for everyone, the roster (names) not for finance
    "reports:index": R(get=ALL),  # a redirect to the summary
    "reports:summary": R(get=ALL),
    "reports:roster": R(get="clerk supervisor viewer admin"),
}  # fmt: skip


# --- The admin site -----------------------------------------------------------------------------

# The admin's own pages. Clerks and viewers are not staff: every admin URL sends them to the
# admin's login page (see `expected`).
ADMIN_PAGES: dict[str, Rule] = {
    "admin:index": R(get=STAFF),
    "admin:app_list": R("households", get=STAFF),
    "admin:login": R(get=STAFF, ok=302, anonymous=200, special={("get", "clerk"): 200,
                                                                ("get", "viewer"): 200}),
    "admin:logout": R(get=None, post=STAFF, ok=LOGIN, anonymous=302,
                      special={("post", "clerk"): 302, ("post", "viewer"): 302}),
    "admin:password_change": R(get=STAFF),
    "admin:password_change_done": R(get=STAFF),
    "admin:jsi18n": R(get=STAFF),
    "admin:autocomplete": R(get=NOBODY),  # no model of the site offers autocompletion
    "admin:view_on_site": R("household_ct", "on_file", get=NOBODY, refused=404),
    "admin:auth_user_password_change": obj("clerk_user", get="admin", post="admin"),
    # /admin/<anything>: the catch-all answers 404 to staff
    "/admin/(?P<url>.*)$": R(get=NOBODY, refused=404),
}  # fmt: skip


@dataclass(frozen=True)
class AdminModel:
    """One registered model: the record its object URLs use, whether it belongs to an
    organisation, and the staff roles that may view, add, change and delete it there."""

    target: str
    scoped: bool
    view: str
    add: str = NOBODY
    change: str = NOBODY
    delete: str = NOBODY
    history: str = ""  # dataset name of a history row: the model keeps field history
    # the roles that find its record (default: those who view the list); the others with the
    # list get 404 on its pages, the record not being in their list (a kind they may not use)
    finds: str | None = None
    extra: dict = field(default_factory=dict)  # more URLs of this admin: {suffix: Rule}


def exchange(view: str) -> dict[str, Rule]:
    """A reference table's Excel exchange (django-import-export, orgs/reference_admin.py):
    importing changes rows (the top of the tree), exporting reads them (whoever views them)."""
    return {
        "import": R(get=NOBODY, post=NOBODY),  # the top of the tree only (not in county A)
        "process_import": R(get=None, post=NOBODY),
        "export": R(get=view),
    }


ADMIN_MODELS: dict[str, AdminModel] = {
    "auth.group": AdminModel("group", False, view=NOBODY),
    "orgs.organisation": AdminModel("base_union", True, view=STAFF, add="admin", change="admin"),
    # Holidays decide notice periods: a county keeps its own, the national ones are read-only
    "orgs.holiday": AdminModel("holiday", True, view="admin", add="admin", change="admin",
                               delete="admin", history="holiday_history"),
    "orgs.user": AdminModel("clerk_user", True, view="supervisor admin", add="admin",
                            change="admin"),
    "orgs.accesslog": AdminModel("access", True, view="admin"),
    # django-axes, scoped by username: administrators see and clear failed logins
    "axes.accessattempt": AdminModel("attempt", True, view="admin", delete="admin"),
    "axes.accesslog": AdminModel("login_log", True, view="admin"),
    # import and export jobs, read-only (the staff pages open a job for its creator only), of
    # the kinds the user may import or export: the record is a households export, which
    # finance does not find
    "imports.importjob": AdminModel("job", True, view=STAFF, finds="supervisor admin"),
    # django-tasks' queue: superusers only
    "django_tasks_database.dbtaskresult": AdminModel("task", False, view=NOBODY),
    "households.household": AdminModel("on_file", True, view=STAFF, history="on_file_history",
                                       extra={"file_pdf": obj("on_file", get=STAFF)}),
    "households.closurerequest": AdminModel("closure", True, view="supervisor admin"),
    "households.publicnotice": AdminModel(
        "public_notice", True, view="supervisor admin",
        extra={"pdf": obj("public_notice", get="supervisor admin")},
    ),
    "households.objection": AdminModel("objection", True, view="supervisor admin"),
    "households.transition": AdminModel("transition", True, view="supervisor admin"),
    "households.spotchecksample": AdminModel("spotcheck", True, view="supervisor admin"),
    "households.spotcheck": AdminModel("spotcheck_item", True, view="supervisor admin"),
    "households.dibaostandard": AdminModel("county_line", True, view="supervisor admin",
                                           add="admin", change="admin",
                                           history="county_line_history"),
    # Tables every organisation shares are changed only at the top of the tree (a county's
    # administrator reads them; orgs.scoping.NationalTableMixin).
    "households.cause": AdminModel("cause", False, view="supervisor admin",
                                   extra=exchange("supervisor admin")),
    "households.category": AdminModel("category", False, view="supervisor admin",
                                      extra=exchange("supervisor admin")),
    "funds.fundsource": AdminModel("source", False, view=STAFF, extra=exchange(STAFF)),
    "funds.assistancetype": AdminModel("kind", False, view=STAFF, extra=exchange(STAFF)),
    "funds.assistancestandard": AdminModel("standard", True, view=STAFF, add="admin",
                                           change="admin", history="standard_history"),
    "funds.closedyear": AdminModel("closed_year", True, view=STAFF, add="admin",
                                   extra={"close": R(get="admin", post="admin")}),
    "funds.assistancerequest": AdminModel("new", True, view="supervisor finance",
                                          history="new_history"),
    "funds.receipt": AdminModel("receipt", True, view=STAFF),
    "funds.refund": AdminModel("refund", True, view=STAFF),
    "funds.ledgerentry": AdminModel("entry", True, view=STAFF),
    "funds.paymentbatch": AdminModel("batch", True, view="supervisor finance"),
    "services.window": AdminModel("window", False, view=STAFF, history="window_history"),
    "services.case": AdminModel("case", True, view=STAFF, history="case_history"),
    "services.legalaidcase": AdminModel("legal", True, view=STAFF, history="legal_history"),
    "services.jobreferral": AdminModel("referral", True, view=STAFF, history="referral_history"),
    "services.trainingcourse": AdminModel("course", True, view=STAFF, history="course_history"),
}  # fmt: skip


def admin_rules(label: str, model: AdminModel) -> dict[str, Rule]:
    """The URLs Django (and django-simple-history) give a registered model, as rules. GET
    and an empty POST: the form pages answer the allowed roles with their errors (200)."""
    app, name = label.split(".")
    prefix = f"admin:{app}_{name}"
    target, scoped = model.target, model.scoped
    finds = model.view if model.finds is None else model.finds
    hidden = {("get", role): 404 for role in set(model.view.split()) - set(finds.split())}
    rules = {
        f"{prefix}_changelist": R(get=model.view),
        f"{prefix}_add": R(get=model.add, post=model.add),
        f"{prefix}_change": Rule(
            args=(target,), scoped=scoped, get=finds, post=model.change, special=hidden
        ),
        f"{prefix}_delete": Rule(args=(target,), scoped=scoped, get=model.delete),
        f"{prefix}_history": Rule(
            args=(target,), scoped=scoped, get=finds, lookup_first=True, special=hidden
        ),
        # /admin/<app>/<model>/<id>/: Django's old address, redirected to …/change/ unchecked
        f"/admin/{app}/{name}/<path:object_id>/": R(target, get=STAFF, ok=302),
    }
    if model.history:
        # one version of the record: viewed, never reverted (ScopedHistoryAdminMixin)
        rules[f"{prefix}_simple_history"] = Rule(
            args=(target, model.history), scoped=scoped, get=model.view, post=NOBODY,
            lookup_first=True,
        )  # fmt: skip
    for suffix, rule in model.extra.items():
        rules[f"admin:{app}_{name}_{suffix}"] = rule
    return rules


@dataclass(frozen=True)
class Action:
    """An admin action on the changelist: the roles that get its confirmation page for a
    selected county A record; the others are sent back to the list (the action is not
    theirs), other counties get the page without the record."""

    target: str
    allowed: str
    scoped: bool = True


# Every action of every registered model, Django's delete_selected included.
ADMIN_ACTIONS: dict[str, Action] = {
    "households.household:approve_applications": Action("notice", "supervisor"),
    "households.household:reject_applications": Action("notice", "supervisor"),
    "households.closurerequest:approve_closures": Action("closure", "supervisor"),
    "households.closurerequest:reject_closures": Action("closure", "supervisor"),
    "funds.assistancerequest:approve_selected": Action("new", "supervisor"),
    "funds.assistancerequest:reject_selected": Action("new", "supervisor"),
    "orgs.holiday:delete_selected": Action("holiday", "admin"),
    "axes.accessattempt:delete_selected": Action("attempt", "admin"),
    # 重新运行所选的中断任务 acts at once, without a confirmation page, and only on a stalled job:
    # the world's job has finished, so nobody gets a page nor changes it (who may run a stalled
    # job again, role by role, is tested in tests/imports).
    "imports.importjob:restart_selected": Action("job", NOBODY),
    # 解除登录锁定 on the user list: whoever may delete the lockouts (the attempts above)
    "orgs.user:unlock_logins": Action("clerk_user", "admin"),
    # Nothing else is ever deleted in the admin: files, money and cases are closed, reference
    # rows retired, users deactivated; windows with cases cannot go and none is deleted in bulk.
    **{
        f"{label}:delete_selected": Action(model.target, NOBODY, model.scoped)
        for label, model in ADMIN_MODELS.items()
        if label not in ("orgs.holiday", "axes.accessattempt")
    },
}


def build_matrix() -> dict[str, Rule]:
    rules = {**PAGES, **ADMIN_PAGES}
    for label, model in ADMIN_MODELS.items():
        rules.update(admin_rules(label, model))
    return rules


MATRIX = build_matrix()


def roles_of(spec: str | None) -> set[str]:
    return set((spec or "").split())


def expected(name: str, rule: Rule, method: str, role: str, *, elsewhere: bool = False):
    """The outcome of `method` on the rule's URL for a user of `role` (None: anonymous), of
    county A, or of another county when `elsewhere`."""
    if role is None:
        return rule.anonymous
    if (method, role) in rule.special:
        return rule.special[(method, role)]
    if name.startswith(("admin", "/admin")) and role not in roles_of(STAFF):
        return LOGIN
    if elsewhere and rule.scoped and rule.lookup_first:
        return 404
    if role not in roles_of(getattr(rule, method)):
        return rule.refused
    if elsewhere and rule.scoped:
        return 404
    return rule.ok
