"""The PDF plumbing every Bangfu PDF shares (orgs/pdf.py): WeasyPrint fetches data: URLs and
our static files and nothing else (no file outside static, no network, no redirect)."""

import base64
import http.server
import subprocess
import threading

import pytest
import weasyprint
from django.templatetags.static import static

from orgs import pdf
from orgs.pdf import (
    PDF_BASE_URL,
    URLRefused,
    html_to_pdf,
    pdf_options,
    safe_url_fetcher,
    static_name,
)

# A 1×1 transparent PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


def pdftotext(data: bytes) -> str:
    result = subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", "-", "-"],  # noqa: S607 - poppler-utils
        input=data,
        capture_output=True,
        check=True,
    )
    return result.stdout.decode()


def test_weasyprint_is_70_or_later():
    # 70 gave URLFetcher its allowed_protocols / allow_redirects options the fetcher relies on.
    assert int(weasyprint.__version__.split(".")[0]) >= 70


def test_pdf_options_subset_fonts_without_hinting():
    options = pdf_options()
    assert options["full_fonts"] is False
    assert options["hinting"] is False
    assert options["uncompressed_pdf"] is False


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://127.0.0.1/",
        "https://127.0.0.1:8000/static/households/pdf/notice.css",
        "http://169.254.169.254/latest/meta-data/",
        "ftp://example.com/x",
        PDF_BASE_URL + "etc/passwd",
        PDF_BASE_URL + "static/../../../../etc/passwd",
        PDF_BASE_URL + "static/%2e%2e/%2e%2e/etc/passwd",
        PDF_BASE_URL + "static//etc/passwd",
        PDF_BASE_URL + "static/households/pdf/missing.css",
        PDF_BASE_URL + "media/households/1/id_copy-abc",
    ],
)
def test_fetcher_refuses_everything_but_data_and_static(url):
    with pytest.raises(URLRefused):
        safe_url_fetcher().fetch(url)


def test_fetcher_serves_data_urls_and_our_static_files():
    fetcher = safe_url_fetcher()
    response = fetcher.fetch("data:text/plain;base64," + base64.b64encode(b"ok").decode())
    assert response.read() == b"ok"
    response = fetcher.fetch(PDF_BASE_URL + "static/households/pdf/notice.css")
    assert response.content_type == "text/css"
    assert b"@page" in response.read()
    assert static_name(PDF_BASE_URL + "static/households/pdf/notice.css") == (
        "households/pdf/notice.css"
    )


def _render_html(monkeypatch, html: str) -> tuple[bytes, list[str]]:
    """Render `html` as every Bangfu PDF is rendered, recording the URLs WeasyPrint asked for."""
    asked: list[str] = []
    real = pdf.safe_url_fetcher

    def recording():
        fetcher = real()
        original = fetcher.fetch

        def fetch(url, headers=None):
            asked.append(url)
            return original(url, headers)

        fetcher.fetch = fetch
        return fetcher

    monkeypatch.setattr(pdf, "safe_url_fetcher", recording)
    return html_to_pdf(html), asked


def test_html_cannot_read_local_files_or_the_network(monkeypatch):
    pdf, asked = _render_html(
        monkeypatch,
        '<p>探针</p><img src="file:///etc/passwd"><img src="http://127.0.0.1/x.png">'
        '<link rel="stylesheet" href="file:///etc/passwd">'
        "<style>@import url(http://127.0.0.1/evil.css);"
        "@font-face { font-family: X; src: url(file:///etc/passwd); }</style>",
    )
    assert "file:///etc/passwd" in asked
    assert "http://127.0.0.1/x.png" in asked
    assert b"/Subtype /Image" not in pdf
    assert "root:" not in pdftotext(pdf)
    assert "探针" in pdftotext(pdf)


def test_html_may_use_data_urls_and_static_files(monkeypatch):
    data_url = "data:image/png;base64," + base64.b64encode(PNG).decode()
    pdf, asked = _render_html(
        monkeypatch,
        f'<link rel="stylesheet" href="{static("households/pdf/notice.css")}">'
        f'<p>探针</p><img src="{data_url}">',
    )
    assert PDF_BASE_URL + "static/households/pdf/notice.css" in asked
    assert b"/Subtype /Image" in pdf


def test_system_check_warns_when_fonts_would_be_subset_slowly(monkeypatch):
    assert pdf.check_pdf_subsetter() == []
    monkeypatch.setattr(pdf, "pdf_subsetter", lambda: "fonttools")
    [warning] = pdf.check_pdf_subsetter()
    assert warning.id == "orgs.W001"


def test_underlying_opener_allows_only_data_urls_and_no_redirects():
    """Even if WeasyPrint called urllib directly, past our fetch(), only data: would open."""
    from urllib.request import HTTPRedirectHandler

    from weasyprint.urls import URLFetcher

    fetcher = safe_url_fetcher()
    for url in ("file:///etc/passwd", "http://127.0.0.1/", "https://127.0.0.1/"):
        with pytest.raises(ValueError, match="disallowed protocol"):
            URLFetcher.fetch(fetcher, url)
    assert not any(isinstance(handler, HTTPRedirectHandler) for handler in fetcher.handlers)


class _Redirecting(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 - http.server's name
        self.hits.append(self.path)
        self.send_response(302)
        self.send_header("Location", "file:///etc/passwd")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_a_redirecting_server_on_loopback_is_never_contacted():
    server = http.server.HTTPServer(("127.0.0.1", 0), _Redirecting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/logo.png"
        with pytest.raises(URLRefused):
            safe_url_fetcher().fetch(url)
        document = html_to_pdf(f'<p>探针</p><img src="{url}"><link rel="stylesheet" href="{url}">')
    finally:
        server.shutdown()
        server.server_close()
    assert _Redirecting.hits == []
    assert b"/Subtype /Image" not in document
    assert "root:" not in pdftotext(document)


def test_stylesheets_go_through_the_same_fetcher(monkeypatch):
    seen: list[str] = []
    real = pdf.safe_url_fetcher

    def recording():
        fetcher = real()
        original = fetcher.fetch

        def fetch(url, headers=None):
            seen.append(url)
            return original(url, headers)

        fetcher.fetch = fetch
        return fetcher

    monkeypatch.setattr(pdf, "safe_url_fetcher", recording)
    html_to_pdf("<p>x</p>", stylesheets=("households/pdf/notice.css",))
    assert PDF_BASE_URL + "static/households/pdf/notice.css" in seen
