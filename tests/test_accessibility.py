"""Accessibility of the staff pages: county staff use them every day, some with a screen reader
or the keyboard only.

Every staff page of the permission matrix (tests/security/matrix.py) is rendered, on the dataset
of the security tests, by every role that uses it (in English by one of them); its HTML is parsed
(stdlib html.parser) and held to what a screen reader needs: the page's language, one <h1> and a
<title> naming the page, a name for every form control, link and button, header cells in tables,
alt text on images, unique ids, a <main> landmark and a <nav>. A few real forms are then posted
with bad input: each error must be tied to its field.

The admin site is Django's own and is left out."""

from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.db import transaction
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from django.views.defaults import server_error

from tests.security.matrix import OK, PAGES, ROLES, roles_of
from tests.security.test_matrix import url_for
from tests.security.world import IN_SCOPE, world  # noqa: F401

LANGUAGES = ("zh-hans", "en")

# Controls that are not filled in by the user, or are named by their value.
UNNAMED_INPUTS = {"hidden", "submit", "button", "reset", "image"}
# Elements whose content cannot hold text (HTML void elements).
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}  # fmt: skip


@dataclass(eq=False)
class Node:
    tag: str
    attrs: dict
    parent: "Node | None" = None
    children: list = field(default_factory=list)
    text: str = ""

    def ancestors(self):
        node = self.parent
        while node is not None:
            yield node
            node = node.parent

    def inner_text(self) -> str:
        """The text a screen reader reads for the element: its own text, its children's, and
        the alt of images inside; hidden parts (aria-hidden) left out."""
        if self.attrs.get("aria-hidden") == "true" or "hidden" in self.attrs:
            return ""
        if self.tag == "img":
            return self.attrs.get("alt") or ""
        parts = [self.text] + [child.inner_text() for child in self.children]
        return " ".join(p for p in parts if p).strip()


class Tree(HTMLParser):
    """A minimal DOM: enough to find an element's ancestors and its text."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.current = self.root
        self.nodes: list[Node] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: (v if v is not None else "") for k, v in attrs}, self.current)
        self.current.children.append(node)
        self.nodes.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.current = self.current.parent

    def handle_endtag(self, tag):
        # close up to the matching open element (tolerates implicitly closed <p>, <li>, …)
        for node in [self.current, *self.current.ancestors()]:
            if node.tag == tag:
                self.current = node.parent or self.root
                return

    def handle_data(self, data):
        if data.strip():
            self.current.children.append(Node("#text", {}, self.current, text=data.strip()))

    def all(self, *tags):
        return [node for node in self.nodes if node.tag in tags]


def describe(node: Node) -> str:
    keep = ("id", "name", "type", "href", "class")
    shown = " ".join(f'{k}="{v}"' for k, v in node.attrs.items() if k in keep)
    return f"<{node.tag} {shown}>".replace(" >", ">")


def named_by_aria(node: Node, ids: dict) -> bool:
    if node.attrs.get("aria-label", "").strip():
        return True
    labelledby = node.attrs.get("aria-labelledby", "").split()
    return bool(labelledby) and all(i in ids and ids[i].inner_text() for i in labelledby)


def control_named(node: Node, ids: dict, label_for: dict) -> bool:
    if named_by_aria(node, ids):
        return True
    own_id = node.attrs.get("id")
    if own_id and any(label.inner_text() for label in label_for.get(own_id, ())):
        return True
    return any(a.tag == "label" and a.inner_text() for a in node.ancestors())


def site_names() -> set[str]:
    """The site's names, base.html's default title, in every language."""
    names = set()
    for language in LANGUAGES:
        with translation.override(language):
            names.update((gettext("帮扶"), gettext("困难职工帮扶管理")))
    return names


def problems_of(html: str, language: str, *, signed_in: bool) -> list[str]:
    tree = Tree(html)
    problems = []
    [html_tag] = tree.all("html") or [Node("html", {})]
    if html_tag.attrs.get("lang") != language:
        problems.append(f'<html lang="{html_tag.attrs.get("lang")}">, the page is in {language}')

    h1s = tree.all("h1")
    if len(h1s) != 1:
        problems.append(f"{len(h1s)} <h1>: {[h.inner_text() for h in h1s]}")
    titles = tree.all("title")
    title = titles[0].inner_text() if titles else ""
    page_part = title.split(" · ")[0].strip()
    if not page_part or page_part in site_names():
        problems.append(f"the <title> does not name the page: {title!r}")

    ids: dict[str, Node] = {}
    for node in tree.nodes:
        node_id = node.attrs.get("id")
        if node_id is None:
            continue
        if node_id in ids:
            problems.append(
                f"id {node_id!r} used twice: {describe(ids[node_id])}, {describe(node)}"
            )
        ids.setdefault(node_id, node)

    label_for: dict[str, list] = {}
    for label in tree.all("label"):
        if "for" in label.attrs:
            label_for.setdefault(label.attrs["for"], []).append(label)
            if label.attrs["for"] not in ids:
                problems.append(f"<label for={label.attrs['for']!r}> names no element")

    for node in tree.nodes:
        for attr in ("aria-describedby", "aria-labelledby", "aria-controls"):
            missing = [i for i in node.attrs.get(attr, "").split() if i not in ids]
            if missing:
                problems.append(f"{attr} names no element {missing}: {describe(node)}")

    for node in tree.all("input", "select", "textarea"):
        if node.tag == "input" and node.attrs.get("type", "text") in UNNAMED_INPUTS:
            if node.attrs.get("type") == "image" and not node.attrs.get("alt"):
                problems.append(f"image button without alt: {describe(node)}")
            continue
        if not control_named(node, ids, label_for):
            problems.append(f"form control without a name: {describe(node)}")

    for table in tree.all("table"):
        cells = [n for n in tree.nodes if n.tag == "th" and table in n.ancestors()]
        if not cells:
            problems.append(f"table without header cells: {describe(table)}")
        for th in cells:
            row = th.parent
            if any(c.tag == "td" for c in row.children) and "scope" not in th.attrs:
                problems.append(f"row header without scope: <th>{th.inner_text()}</th>")

    for img in tree.all("img"):
        if "alt" not in img.attrs:
            problems.append(f"image without alt: {describe(img)}")

    for node in tree.all("a", "button"):
        if node.tag == "a" and "href" not in node.attrs:
            continue
        if not (node.inner_text() or named_by_aria(node, ids)):
            problems.append(f"{node.tag} without text: {describe(node)}")
        target = node.attrs.get("href", "")
        if target.startswith("#") and target[1:] not in ids:  # "#" alone included
            problems.append(f"link to nothing on the page: {describe(node)}")

    if not tree.all("main"):
        problems.append("no <main> landmark")
    if signed_in and not tree.all("nav"):
        problems.append("no <nav>")
    return problems


# --- The pages ----------------------------------------------------------------------------------


# Pages the matrix opens in one state only, here in the others that change what they show:
# (URL name, world records for its arguments, query string, role).
VARIANTS = [
    ("households:detail", ("draft",), "", "clerk"),
    ("households:detail", ("notice",), "", "supervisor"),
    ("households:detail", ("money",), "", "finance"),
    ("households:list", (), "status=on_file&sort=-file_number", "clerk"),
    ("funds:request_detail", ("paid",), "", "finance"),
    ("funds:request_detail", ("waiting",), "", "supervisor"),
    ("funds:statement", (), "cutoff=2099-12-31", "finance"),
    ("funds:ledger", (), "source=central", "finance"),
    ("services:case_list", (), "overdue=on", "clerk"),
    ("households:create", (), "", "supervisor"),  # the 403 page
    ("households:detail", ("b_household",), "", "clerk"),  # the 404 page
]


def staff_pages(records, *, every_role: bool):
    """(label, URL, role) for every GET page of the matrix, opened by every role that may open
    it (`every_role`) or by the first of them (ROLES order: the counter's roles first) and the
    home page by each role; then the variants above and an anonymous visit of the login page."""
    for name, rule in sorted(PAGES.items()):
        if rule.get is None or rule.ok != OK:
            continue
        url = url_for(name, rule, records)
        roles = [r for r in ROLES if r in roles_of(rule.get) and ("get", r) not in rule.special]
        for role in roles if every_role or name == "home" else roles[:1]:
            yield name, url, role
    for name, args, query, role in VARIANTS:
        url = reverse(name, args=[records[arg] for arg in args]) + (f"?{query}" if query else "")
        yield name, url, role
    yield "login", reverse("login"), None


def fetch(client, url, language):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client.get(url)


def is_page(response) -> bool:
    """A whole HTML page (not a download, a redirect or an htmx fragment)."""
    return (
        response.status_code in (200, 403, 404)
        and response.get("Content-Type", "").startswith("text/html")
        and b"<html" in response.content[:500]
    )


# Every role in Chinese, the staff's language; in English, the structure is the same and one
# role per page checks what the language changes (lang, titles, labels) in half the time.
@pytest.mark.parametrize("language, every_role", [("zh-hans", True), ("en", False)])
def test_staff_pages_are_accessible(world, db, language, every_role):  # noqa: F811
    clients = world["clients"]
    problems, seen = [], 0
    for name, url, role in staff_pages(world, every_role=every_role):
        response = fetch(clients(IN_SCOPE.get(role)), url, language)
        if response.streaming:
            # Read to the end, the client then closes the download's file. Not close() here: that
            # sends request_finished, whose close_old_connections closes the test's connection
            # inside its transaction on PostgreSQL (SQLite keeps an in-memory one open).
            b"".join(response.streaming_content)
        if not is_page(response):
            continue
        seen += 1
        for problem in problems_of(response.content.decode(), language, signed_in=bool(role)):
            problems.append(f"{name} ({role or 'anonymous'}) {url}: {problem}")
    assert seen > 60, f"only {seen} pages rendered"
    assert not problems, "\n".join(sorted(set(problems)))


# --- Errors of a posted form ----------------------------------------------------------------------


def form_data(tree: Tree, form: Node) -> dict:
    """What the browser would post for the form as the page shows it."""
    data: dict[str, list] = {}
    inside = [n for n in tree.nodes if form in n.ancestors()]
    for node in inside:
        name = node.attrs.get("name")
        if not name or "disabled" in node.attrs:
            continue
        if node.tag == "input":
            kind = node.attrs.get("type", "text")
            if kind in ("submit", "button", "reset", "image", "file"):
                continue
            if kind in ("checkbox", "radio") and "checked" not in node.attrs:
                continue
            data.setdefault(name, []).append(
                node.attrs.get("value", "on" if kind == "checkbox" else "")
            )
        elif node.tag == "textarea":
            data.setdefault(name, []).append(node.inner_text())
        elif node.tag == "select":
            options = [n for n in inside if n.tag == "option" and node in n.ancestors()]
            chosen = [o for o in options if "selected" in o.attrs] or options[:1]
            for option in chosen:
                data.setdefault(name, []).append(option.attrs.get("value", option.inner_text()))
    return data


def groups_of(node: Node, controls: list) -> list[Node]:
    """The <label>s and <fieldset>s around an element that hold one field only (a checkbox, a
    group of radios or checkboxes): a fieldset of several fields names none of them."""
    return [
        group for group in node.ancestors()
        if group.tag in ("label", "fieldset")
        and len({n.attrs.get("name") for n in controls if group in n.ancestors()}) == 1
    ]  # fmt: skip


def untied_errors(tree: Tree) -> list[str]:
    """Errors of fields that no field points at, and invalid fields that point at no error. An
    error is tied to its field when the field, or the <fieldset> of its group of radios or
    checkboxes, names it in aria-describedby, or when it sits inside that <label>/<fieldset>."""
    ids = {n.attrs["id"]: n for n in tree.nodes if "id" in n.attrs}
    controls = tree.all("input", "select", "textarea")
    lists = [
        n for n in tree.all("ul")
        if "errorlist" in n.attrs.get("class", "").split()
        and "nonfield" not in n.attrs.get("class", "").split()
        # the summary at the top only links to the fields: each field has its own error
        and not any("error-summary" in a.attrs.get("class", "") for a in n.ancestors())
    ]  # fmt: skip

    def errors_of(control: Node) -> list:
        named = [ids.get(i) for i in control.attrs.get("aria-describedby", "").split()]
        for group in groups_of(control, controls):
            named += [ids.get(i) for i in group.attrs.get("aria-describedby", "").split()]
            named += [e for e in lists if group in e.ancestors()]
        return [e for e in named if e in lists]

    invalid = [n for n in controls if n.attrs.get("aria-invalid") == "true"]
    tied = {id(e) for n in invalid for e in errors_of(n)}
    problems = [
        f"error not tied to a field: {e.inner_text()!r} {describe(e)}"
        for e in lists
        if id(e) not in tied
    ]
    problems += [
        f"invalid field without its error message: {describe(n)}"
        for n in invalid
        if not errors_of(n)
    ]
    return problems


# (URL name, world record for its argument, role, the form's bad values)
BAD_FORMS = [
    ("households:create", None, "clerk", {
        "worker_name": "", "id_number": "4501021980", "phone": "12",
        "members-1-name": "李芳", "members-1-relation": "spouse", "members-1-id_number": "x",
        "members-1-monthly_income": "-5", "members-TOTAL_FORMS": "2", "bank_account": "abc",
        "labour_relation_since": "2999-01-01", "rigid_spending_annual": "-1",
        "secondary_causes": "no-such-cause",
    }),
    ("funds:request_create", "money", "clerk", {
        "amount": "-5", "reason": "", "requested_on": "not a date", "out_of_pocket": "x",
    }),
    ("services:case_create", None, "clerk", {
        "worker_name": "", "worker_id_number": "123", "matter": "", "worker_phone": "12",
    }),
    # radio buttons: a group's error is tied to its <fieldset>
    ("funds:request_decide", "new", "supervisor", {"decision": "maybe"}),
    ("households:closure_request", "on_file", "clerk", {"kind": "bogus", "effective_date": "x"}),
]  # fmt: skip


@pytest.mark.parametrize("name, record, role, bad", BAD_FORMS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_form_errors_are_tied_to_their_fields(world, db, language, name, record, role, bad):  # noqa: F811
    url = reverse(name, args=[world[record]] if record else [])
    client = world["clients"](IN_SCOPE[role])
    page = Tree(fetch(client, url, language).content.decode())
    [form] = [
        f
        for f in page.all("form")
        if f.attrs.get("method") == "post"
        and any(a.tag == "main" for a in f.ancestors())
        and "inline" not in f.attrs.get("class", "")
    ]
    data = form_data(page, form)
    data.update({key: [value] for key, value in bad.items()})
    with transaction.atomic():
        response = client.post(url, data)
        transaction.set_rollback(True)
    assert response.status_code == 200, (
        f"{name}: the bad input was accepted ({response.status_code})"
    )
    html = response.content.decode()
    tree = Tree(html)
    errors = [n for n in tree.all("ul") if "errorlist" in n.attrs.get("class", "")]
    assert errors, f"{name}: no field errors shown"
    problems = untied_errors(tree) + problems_of(html, language, signed_in=True)
    assert not problems, f"{name}\n" + "\n".join(problems)


# --- The checks themselves ----------------------------------------------------------------------

GOOD = """<!DOCTYPE html><html lang="en"><head><title>Files · Hardship worker assistance</title>
</head><body><a href="#main">Skip</a><nav><a href="/">Home</a></nav><main id="main">
<h1>Files</h1><form><label for="q">Search</label>
<input id="q" name="q" aria-describedby="q_helptext"><small id="q_helptext">Name or number</small>
<label><input type="checkbox" name="c"> Closed</label>
<select name="s" aria-label="Sort"><option>a</option></select><input type="hidden" name="h">
<button type="submit"><span aria-hidden="true">⌕</span><span>Go</span></button></form>
<table><thead><tr><th>Name</th></tr></thead><tbody><tr><th scope="row">1</th><td>x</td></tr>
</tbody></table><img src="a.png" alt=""><a href="/x" aria-label="Edit"><img src="e.svg" alt=""></a>
</main></body></html>"""

BAD = """<!DOCTYPE html><html lang="zh-hans"><head><title>帮扶 · 困难职工帮扶管理</title></head>
<body><div><h1>One</h1><h1>Two</h1><form><label for="">Date</label><input id="d" name="d">
<input name="e" aria-describedby="e_helptext"><textarea id="d" name="t"></textarea></form>
<table><tr><td>x</td></tr></table><table><tr><th>Row</th><td>1</td></tr></table>
<img src="a.png"><a href="/edit"><span aria-hidden="true">✎</span></a><button></button>
<a href="#nowhere">Errors</a>
</div></body></html>"""


def test_the_checks_pass_a_good_page():
    assert problems_of(GOOD, "en", signed_in=True) == []


def test_the_checks_find_each_problem():
    found = "\n".join(problems_of(BAD, "en", signed_in=True))
    for expected in (
        '<html lang="zh-hans">, the page is in en',
        "2 <h1>",
        "the <title> does not name the page",
        "<label for=''> names no element",
        "id 'd' used twice",
        "aria-describedby names no element ['e_helptext']",
        'form control without a name: <input name="e">',
        "table without header cells",
        "row header without scope: <th>Row</th>",
        "image without alt",
        'a without text: <a href="/edit">',
        "button without text",
        'link to nothing on the page: <a href="#nowhere">',
        "no <main> landmark",
        "no <nav>",
    ):
        assert expected in found, f"{expected!r} not reported in:\n{found}"


def test_an_error_the_field_does_not_name_is_reported():
    tied = ('<form><label for="a">A</label><input id="a" aria-invalid="true" '
            'aria-describedby="a_error"><ul class="errorlist" id="a_error"><li>Bad</li></ul>'
            '<fieldset><legend>B</legend><input type="radio" name="b" aria-invalid="true">'
            '<ul class="errorlist"><li>Pick one</li></ul></fieldset>'
            '<fieldset aria-describedby="c_error"><legend>C</legend>'
            '<input type="checkbox" name="c" aria-invalid="true"></fieldset>'
            '<ul class="errorlist" id="c_error"><li>Too many</li></ul></form>')  # fmt: skip
    assert untied_errors(Tree(tied)) == []
    loose = ('<form><fieldset><label for="a">A</label><input id="a" aria-invalid="true">'
             '<ul class="errorlist" id="a_error"><li>Bad</li></ul><input name="c" aria-label="C">'
             '</fieldset></form>')  # fmt: skip
    assert untied_errors(Tree(loose)) == [
        'error not tied to a field: \'Bad\' <ul class="errorlist" id="a_error">',
        'invalid field without its error message: <input id="a">',
    ]


@pytest.mark.parametrize(
    "language, names",
    [
        ("zh-hans", ["登记日期（起）", "登记日期（止）"]),
        ("en", ["Date logged (from)", "Date logged (to)"]),
    ],
)
def test_each_box_of_a_date_range_has_its_name(world, db, language, names):  # noqa: F811
    """The service centre's lists filter by a from–to range: one label, two boxes."""
    client = world["clients"](IN_SCOPE["clerk"])
    tree = Tree(fetch(client, reverse("services:case_list"), language).content.decode())
    boxes = [n for n in tree.all("input") if n.attrs.get("name", "").startswith("received_")]
    assert [box.attrs.get("aria-label") for box in boxes] == names


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_server_error_page_is_accessible(language):
    with translation.override(language):  # as the middleware leaves it for the error handler
        html = server_error(RequestFactory().get("/")).content.decode()
    assert problems_of(html, language, signed_in=False) == []
