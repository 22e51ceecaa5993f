"""The English interface is English: every page of the site, crawled in English by the roles that
may open it over a data set whose user data is all Latin, shows no Chinese character but the few
the allow-list names (and why).

The data set is the security tests' world (tests/security/world.py: every kind of record the URLs
and admin pages need), its user data written in Latin letters afterwards (`latinise`); the URLs,
their arguments and who may open them come from the permission matrix (tests/security/matrix.py),
which fails when a URL is missing from it. From each page the crawl also follows the links that
only change its query (list filters, pagination), one level deep, and posts each form
empty (its errors). Outputs that are Chinese by design are not read: the PDFs printed for
Chinese readers (the summary, roster and notice; the household file form is printed in the
reader's language and read) and the workbooks in the import layout, whose headers the imports
match."""

import re
from contextlib import contextmanager
from html import unescape
from io import BytesIO
from unittest import mock
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.db import models, transaction
from django.test import Client
from django.urls import reverse
from django.utils import translation

from orgs.pii import EncryptedCharField
from tests.security.matrix import ADMIN_ACTIONS, MATRIX, ROLES, roles_of
from tests.security.test_matrix import url_for
from tests.security.world import IN_SCOPE, Clients, build_world

CJK = re.compile(r"[\u2e80-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]+")
# Chinese an English page shows on purpose.
ALLOWED = {
    "简体中文",  # the language switcher names each language in itself
    "组织代码",  # an import error's column: the template's column names are Chinese by the spec
}

# The world's user data (names, reasons, document numbers, holidays, organisations, users) as a
# Latin-writing user would have typed it. Reference rows seeded by migrations keep their Chinese
# names: they print English through their __str__ (orgs/reference.py).
LATIN = {
    "广西壮族自治区总工会": "Guangxi Federation of Trade Unions",
    "南宁市总工会": "Nanning Federation of Trade Unions",
    "兴宁区总工会": "Xingning District Federation",
    "青秀区总工会": "Qingxiu District Federation",
    "兴宁区民生街道工会联合会": "Minsheng Street Union",
    "南宁糖业股份有限公司工会": "Nanning Sugar Union",
    "青秀区中山街道工会联合会": "Zhongshan Street Union",
    "广西建工第一建筑工程公司工会": "Guangxi Construction Union",
    "柳州市总工会": "Liuzhou Federation of Trade Unions",
    "困难职工建档公示": " hardship filing notice",  # a notice's title (defaulted, editable)
    "中国工商银行南宁分行": "ICBC Nanning Branch",
    "因病致困，申请帮扶": "Ill, asks for help",
    "桂财行〔2026〕1号": "GCX-2026-1",
    "桂财行〔2026〕2号": "GCX-2026-2",
    "青财〔2026〕1号": "QC-2026-1",
    "张小明": "Zhang Xiaoming",
    "王大力": "Wang Dali",
    "李芳": "Li Fang",
    "青秀秘户": "Qingxiu Secret",
    "王芳": "Wang Fang",
    "李强": "Li Qiang",
    "收入已稳定": "Income is steady",
    "收入高于标准": "Income above the standard",
    "收入证明.pdf": "income-proof.pdf",
    "历史档案导入": "Imported from old records",
    "经审核符合条件": "Meets the conditions",
    "有两套住房": "Owns two flats",
    "邻居": "A neighbour",
    "家中有重病患者": "A family member is seriously ill",
    "演示数据": "demo data",
    "欠薪": "Unpaid wages",
    "某厂": "A factory",
    "焊工": "Welder",
    "电工": "Electrician",
    "学员": "Trainee",
    "兴宁区调休": "Xingning make-up day",
    "元旦": "New Year",
    "春节": "Spring Festival",
    "清明节": "Qingming",
    "劳动节": "Labour Day",
    "端午节": "Dragon Boat",
    "中秋节": "Mid-Autumn",
    "国庆节": "National Day",
    "调休": " make-up day",
}
# Tables whose names stay Chinese: reference rows printed through their translated __str__, and
# Django's permission names, written once in the language of the migration.
REFERENCE = {
    "households.Cause",
    "households.Category",
    "funds.FundSource",
    "funds.AssistanceType",
    "services.Window",
    "services.HistoricalWindow",
    "auth.Permission",
}


def text_fields(model):
    return [
        field
        for field in model._meta.concrete_fields
        if isinstance(field, (models.CharField, models.TextField))
        and not isinstance(field, EncryptedCharField)
    ]


def chinese_values():
    """(model, field, value) of every stored text with Chinese in it."""
    for model in apps.get_models():
        for field in text_fields(model):
            for pk, value in model._base_manager.values_list("pk", field.attname):
                if value and CJK.search(value):
                    yield model, field, pk, value


def latin(value: str) -> str:
    for word in sorted(LATIN, key=len, reverse=True):
        value = value.replace(word, LATIN[word])
    return value


@contextmanager
def latin_ledger():
    """The ledger is append-only (a trigger refuses updates): its entries copy the document
    numbers of receipts and refunds, which are written in Latin from the start."""
    from funds import services

    def latin_arguments(service):
        def call(**kwargs):
            return service(**{k: latin(v) if isinstance(v, str) else v for k, v in kwargs.items()})

        return call

    with (
        mock.patch.object(services, "receipt_record", latin_arguments(services.receipt_record)),
        mock.patch.object(services, "refund_record", latin_arguments(services.refund_record)),
    ):
        yield


def latinise():
    from orgs.demo import demo_users
    from orgs.models import User

    names = {username: full_name for username, full_name, _org, _role in demo_users()}
    names["viewer_450200"] = "柳州市总工会（只读）"
    for username in names:
        User.objects.filter(username=username).update(full_name=username.replace("_", " "))
    LATIN.update({name: username for username, name in names.items()})
    for model, field, pk, value in list(chinese_values()):
        if model._meta.label not in REFERENCE:
            model._base_manager.filter(pk=pk).update(**{field.attname: latin(value)})
    return {
        f"{model._meta.label}.{field.name}: {value}"
        for model, field, _pk, value in chinese_values()
        if model._meta.label not in REFERENCE
    }


@pytest.fixture(scope="module")
def english_world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        with latin_ledger():
            data = build_world()
        english_upload(data["rejected_job"])
        data["left"] = latinise()
        data["clients"] = Clients(IN_SCOPE.values())
        yield data
        transaction.set_rollback(True)


def english_upload(pk):
    """The rejected import as an English-speaking clerk uploaded it: its stored messages are in
    the uploader's language (ImportJob.language), its file name is what they typed."""
    from imports.models import ImportJob

    job = ImportJob.objects.get(pk=pk)
    for error in job.preview["errors"]:
        error["message"] = 'Organisation code "999999" does not exist.'
    job.language, job.original_name = "en", "files.xlsx"
    job.save(update_fields=["preview", "language", "original_name"])


def test_the_data_set_is_latin(english_world, db):
    assert not english_world["left"], sorted(english_world["left"])


# --- Reading a page ------------------------------------------------------------------------------

COMMENT = re.compile(r"<!--.*?-->", re.S)


def shown_text(response) -> str | None:
    """What a reader of an English response sees (attributes and scripts included), or None
    for what is not checked."""
    kind = response.get("Content-Type", "")
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if "spreadsheetml" in kind:
        from openpyxl import load_workbook

        book = load_workbook(BytesIO(content), read_only=True)
        cells = [sheet.title for sheet in book]
        for sheet in book:
            for row in sheet.iter_rows():
                # a value and the text its number format adds ('#,##0.00" yuan"')
                cells += [f"{c.value} {c.number_format}" for c in row if c.value is not None]
        return "\n".join(cells)
    if kind.startswith(("text/html", "application/json", "text/plain", "text/csv")):
        return unescape(COMMENT.sub("", content.decode("utf-8", "replace")))
    # A PDF rendered here (the file form, a notice): its text. An uploaded document is streamed
    # from storage as it was uploaded, and is not read.
    if kind == "application/pdf" and not response.streaming:
        from tests.households.test_notice_pdf import pdftotext

        return pdftotext(content)
    return None


def leaks(text: str) -> dict[str, str]:
    """{Chinese shown: where it stands}."""
    found = {}
    for match in CJK.finditer(text):
        if match.group() not in ALLOWED and match.group() not in found:
            start, end = max(0, match.start() - 60), min(len(text), match.end() + 30)
            found[match.group()] = " ".join(text[start:end].split())
    return found


QUERY_LINK = re.compile(r"""href="(\?[^"#]*)\"""")


def crawl(client, url, *, post=False, seen, follow=True, get=True) -> dict[str, dict[str, str]]:
    """{url: leaks} of the page, of the links that only change its query, and of the answer
    to its form posted empty."""
    found = {}
    response = client.get(url) if get else None
    text = shown_text(response) if get and response.status_code in (200, 403, 404) else None
    if text is not None and (leaked := leaks(text)):
        found[url] = leaked
    if text is not None and follow and "text/html" in response.get("Content-Type", ""):
        path = urlsplit(url).path
        for query in sorted(set(QUERY_LINK.findall(response.content.decode())))[:20]:
            linked = path + unescape(query)
            # Sorting changes no text; the PDFs are Chinese (and slow to make).
            if linked in seen or re.search(r"[?&](o=|format=pdf)", linked):
                continue
            seen.add(linked)
            page = client.get(linked)
            if page.status_code == 200 and (leaked := leaks(shown_text(page) or "")):
                found[linked] = leaked
    if post:
        with transaction.atomic():  # an empty form: its errors; whatever it writes is undone
            page = client.post(url, {})
            transaction.set_rollback(True)
        if page.status_code == 200 and (leaked := leaks(shown_text(page) or "")):
            found[f"POST {url}"] = leaked
    return found


# Downloads that are Chinese by design: the import layout (exports, templates and a job's
# workbook keep the headers the imports match by) and the PDFs printed for Chinese readers.
CHINESE_BY_DESIGN = {
    "imports:template",
    "imports:template[funds]",
    "imports:download",
    "funds:export",
    "funds:batch_download",  # the bank's file, in the bank's layout
    "households:notice_pdf",
    "households:letter_pdf",  # written to the household (its own test reads it in English too)
    "admin:households_publicnotice_pdf",
    # a reference table's Excel exchange: stored names, matched by the next import
    "admin:households_cause_export",
    "admin:households_category_export",
    "admin:funds_fundsource_export",
    "admin:funds_assistancetype_export",
}
# A reference row's own page (and a past version of it) shows the stored name, the value an
# administrator at the top of the tree edits; lists and every other page print it translated.
STORED_NAMES = {
    "admin:households_cause_change": ("households", "Cause"),
    "admin:households_category_change": ("households", "Category"),
    "admin:funds_fundsource_change": ("funds", "FundSource"),
    "admin:funds_assistancetype_change": ("funds", "AssistanceType"),
    "admin:services_window_change": ("services", "Window"),
    "admin:services_window_simple_history": ("services", "Window"),
}
QUERIES = {"funds:household_pick": "q=Zhang"}  # the matrix searches a Chinese name


def english(client):
    client.cookies["django_language"] = "en"
    return client


def english_readers(name) -> list[str]:
    """The roles whose English reading of the page is checked (none: no page to read)."""
    rule = MATRIX[name]
    if name in CHINESE_BY_DESIGN or rule.ok != "ok":
        return []
    allowed = [
        role for role in ROLES if role in roles_of(rule.get) and ("get", role) not in rule.special
    ]
    posted = [role for role in ROLES if role in roles_of(rule.post)]
    if rule.get is None and posted:
        allowed = posted[:1]  # a form or fragment only posted: the answer to an empty post
    return allowed


@pytest.mark.parametrize("name", [name for name in sorted(MATRIX) if english_readers(name)])
def test_english_page(name, english_world, db):
    rule = MATRIX[name]
    allowed = english_readers(name)
    url = url_for(name, rule, english_world)
    if name in QUERIES:
        url = f"{url.split('?')[0]}?{QUERIES[name]}"
    stored = set()
    if name in STORED_NAMES:
        stored = set(apps.get_model(*STORED_NAMES[name]).objects.values_list("name", flat=True))
    # The first and last roles that may open a staff page: what it offers differs by role.
    # The admin's pages differ less: one role.
    found, seen = {}, set()
    roles = allowed[:1] if name.startswith(("admin:", "/admin")) else [allowed[0], allowed[-1]]
    for role in dict.fromkeys(roles):
        client = english(english_world["clients"](IN_SCOPE[role]))
        post = role in roles_of(rule.post)
        pages = crawl(client, url, post=post, seen=seen, get=rule.get is not None)
        for page, leaked in pages.items():
            for chinese, context in leaked.items():
                if chinese not in stored:
                    found.setdefault(chinese, f"{role} {page}: {context}")
    assert not found, "\n".join(found.values())


@pytest.mark.parametrize("key", sorted(k for k, a in ADMIN_ACTIONS.items() if a.allowed))
def test_english_admin_action_confirmation(key, english_world, db):
    label, action = key.split(":")
    spec = ADMIN_ACTIONS[key]
    client = english(english_world["clients"](IN_SCOPE[spec.allowed.split()[0]]))
    pk = english_world[spec.target]
    url = reverse("admin:{}_{}_changelist".format(*label.split(".")))
    with transaction.atomic():
        response = client.post(url, {"action": action, "_selected_action": [pk], "index": 0})
        transaction.set_rollback(True)
    assert response.status_code == 200
    found = leaks(shown_text(response))
    assert not found, "\n".join(found.values())


def test_english_pages_of_an_empty_organisation(english_world, db):
    """What a list says when it has nothing (a union with no records), and the page of a record
    out of reach (404)."""
    from orgs.models import User

    client = english(Client())
    client.force_login(User.objects.get(username="viewer_450200"))
    found = {}
    for name, rule in MATRIX.items():
        if "viewer" not in roles_of(rule.get) or name.startswith(("admin", "/")):
            continue
        if name in CHINESE_BY_DESIGN or rule.special or rule.ok != "ok":
            continue
        url = url_for(name, rule, english_world)
        for page, leaked in crawl(client, url, seen=set(), follow=False).items():
            for chinese, context in leaked.items():
                found.setdefault(chinese, f"{page}: {context}")
    assert not found, "\n".join(found.values())


def test_english_pages_before_signing_in_and_when_refused(english_world, db):
    from django.test import RequestFactory
    from django.views.defaults import server_error

    pages = {}
    anonymous = english(Client())
    for url in (reverse("login"), reverse("admin:login")):
        pages[url] = anonymous.get(url)
    strict = english(Client(enforce_csrf_checks=True))
    pages["CSRF"] = strict.post(reverse("login"), {"username": "x", "password": "y"})
    assert pages["CSRF"].status_code == 403
    finance = english(english_world["clients"]("finance_450102"))
    pages["403"] = finance.get(reverse("reports:roster"))
    assert pages["403"].status_code == 403
    pages["404"] = finance.get("/no-such-page/")
    assert pages["404"].status_code == 404
    with translation.override("en"):
        pages["500"] = server_error(RequestFactory().get("/"))
    found = {
        chinese: f"{page}: {context}"
        for page, response in pages.items()
        for chinese, context in leaks(shown_text(response) or "").items()
    }
    assert not found, "\n".join(found.values())


def test_english_lists_and_asides_the_world_leaves_empty(english_world, db):
    """What the crawl's records do not show: several secondary causes, a deregistration's
    reason, a worker matched on two counts among earlier cases."""
    from households.models import Cause, ClosureRequest, Household
    from services.models import Case

    household = Household.objects.get(pk=english_world["on_file"])
    household.secondary_causes.set(Cause.objects.exclude(pk=household.primary_cause_id)[:2])
    ClosureRequest.objects.filter(pk=english_world["closure"]).update(
        kind="deregistered", deregistration_reason="moved"
    )
    case = Case.objects.get(pk=english_world["case"])
    clerk = english(english_world["clients"]("clerk_450102"))
    supervisor = english(english_world["clients"]("supervisor_450102"))
    pages = {
        "detail": clerk.get(reverse("households:detail", args=[household.pk])),
        "closure": supervisor.get(
            reverse("households:closure_decide", args=[english_world["closure"]])
        ),
        "earlier cases": clerk.post(
            reverse("services:earlier_cases"),
            {"worker_name": case.worker_name, "worker_id_number": case.worker_id_number},
        ),
    }
    assert "Moved away" in pages["closure"].content.decode()
    assert pages["earlier cases"].content.decode().count(case.worker_name) >= 1
    found = {
        chinese: f"{page}: {context}"
        for page, response in pages.items()
        for chinese, context in leaks(shown_text(response) or "").items()
    }
    assert not found, "\n".join(found.values())
