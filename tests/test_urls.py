"""Every URL in the URLconf needs a login: walk the URLconf so new pages are covered too."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

# Pages that must be reachable without logging in.
PUBLIC = {"login", "set_language", "admin:login", "javascript-catalog", "favicon"}
SAMPLE = {
    "int": "1",
    "str": "x",
    "slug": "x",
    "path": "x",
    "uuid": "00000000-0000-0000-0000-000000000000",
}


def regex_sample(regex: str) -> str:
    regex = regex.lstrip("^").rstrip("$").replace("\\Z", "")
    # Named groups: take the first alternative of a choice, else a digit.
    regex = re.sub(r"\(\?P<\w+>([a-z_]+)(\|[^)]*)?\)", r"\1", regex)
    regex = re.sub(r"\(\?P<\w+>[^)]*\)", "1", regex)
    return regex.replace("\\", "").replace("?", "")


def pattern_sample(pattern) -> str:
    route = getattr(pattern.pattern, "_route", None)
    if route is not None:
        return re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLE.get(m.group(1) or "str", "1"), route)
    return regex_sample(pattern.pattern.regex.pattern)


def walk(patterns, prefix="", namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            ns = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from walk(pattern.url_patterns, prefix + pattern_sample(pattern), ns)
        elif isinstance(pattern, URLPattern):
            yield f"{namespace}{pattern.name or ''}", "/" + prefix + pattern_sample(pattern)


ALL_URLS = sorted(set(walk(get_resolver().url_patterns)))


def test_the_walk_finds_the_site():
    names = {name for name, _ in ALL_URLS}
    assert {"home", "login", "admin:index", "admin:orgs_organisation_changelist"} <= names
    assert len(ALL_URLS) > 30


@pytest.mark.parametrize(("name", "url"), [u for u in ALL_URLS if u[0] not in PUBLIC])
def test_anonymous_is_sent_to_login(client, db, name, url):
    for method in (client.get, client.post):
        response = method(url)
        assert response.status_code in (302, 404), (name, url, response.status_code)
        if response.status_code == 302:
            assert "login" in response["Location"], (name, url, response["Location"])
        else:
            # A URL whose sample value matches nothing may 404 only if it asks for a login first.
            pytest.fail(f"{name} {url} answered 404 to an anonymous visitor")


@pytest.mark.parametrize(("name", "url"), [u for u in ALL_URLS if u[0] in PUBLIC])
def test_public_pages_answer(client, db, name, url):
    assert client.get(url).status_code in (200, 302, 405)
