"""What the ID-number search tests look at (orgs/idsearch.py): every URL a followed response
put before the user, none of which may hold the number searched."""

import re
from html import unescape
from urllib.parse import unquote_plus

URL_ATTRIBUTE = re.compile(r'\b(?:href|action|src|hx-get|hx-post|formaction)="([^"]*)"')


def urls_of(response) -> list[str]:
    """The redirects' Location headers, the address of the page shown at the end and every
    link, form action and htmx URL of that page, decoded."""
    found = [url for url, _status in getattr(response, "redirect_chain", [])]
    query = response.request.get("QUERY_STRING", "")
    found.append(response.request["PATH_INFO"] + (f"?{query}" if query else ""))
    found += URL_ATTRIBUTE.findall(response.content.decode())
    return [unquote_plus(unescape(url)) for url in found]


def assert_number_in_no_url(response, number: str) -> None:
    """Neither the number nor its first 17 digits (so no X / x variant) is in any URL."""
    assert response.redirect_chain, "the search was not answered with a redirect"
    leaked = [url for url in urls_of(response) if number[:17] in url]
    assert not leaked, leaked


def csrf_checked_search(user, url: str, text: str, *, form_id: str):
    """Search as a browser does, with CSRF checks on: the token is read from the search form
    of the page (`form_id` starts its tag), then the form is posted with it."""
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    page = client.get(url).content.decode()
    form = page[page.index(form_id) :]
    form = form[: form.index("</form>")]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)[1]
    return client.post(url, {"csrfmiddlewaretoken": token, "q": text}, follow=True)
