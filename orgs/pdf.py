"""The PDF plumbing every Bangfu PDF shares (public notices, the annual summary, rosters).

- `pdf_options()`: the `write_pdf` options of every Bangfu PDF. Speed comes from HarfBuzz: with
  `libharfbuzz-subset0` installed, WeasyPrint 70 subsets the 20 MB Noto Sans CJK font in C
  (≈0.2 s a page); without it, it falls back to fontTools (10–20 s a page). `pdf_subsetter()`
  says which one is in use and the system check `orgs.W001` warns when it is fontTools.
- `safe_url_fetcher()`: WeasyPrint fetches nothing but `data:` URLs and our own static files (found
  through the staticfiles finders or storage); the network (so redirects too) and the rest of
  the filesystem are refused. System fonts come from fontconfig, not through the fetcher.
- `render_pdf(template_name, context, stylesheets=…)` / `html_to_pdf(html, stylesheets=…)`: an
  autoescaped Django template (or HTML) rendered to PDF bytes with the two above.
"""

import mimetypes
from functools import cache
from pathlib import PurePosixPath
from urllib.parse import unquote, urljoin, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core import checks
from django.core.exceptions import SuspiciousFileOperation
from django.template.loader import render_to_string

# Relative URLs in PDF templates resolve against this base, so `{% static %}` paths become
# absolute URLs the fetcher recognises. The reserved .invalid domain is never contacted.
PDF_BASE_URL = "https://bangfu.invalid/"


def pdf_options() -> dict:
    """`write_pdf` options for every Bangfu PDF: subset fonts (only the glyphs used are
    embedded, a page stays a few hundred kB instead of 48 MB) without hinting (smaller, and
    hinting is useless in print), compressed streams, recompressed images."""
    return {
        "full_fonts": False,
        "hinting": False,
        "uncompressed_pdf": False,
        "optimize_images": True,
        "jpeg_quality": 85,
    }


def pdf_subsetter() -> str:
    """ "harfbuzz" when WeasyPrint can subset fonts with libharfbuzz-subset (fast), else
    "fonttools" (a CJK page then takes 10–20 s)."""
    from weasyprint.pdf import fonts
    from weasyprint.text.ffi import harfbuzz

    if fonts.harfbuzz_subset and harfbuzz.hb_version_atleast(4, 1, 0):
        return "harfbuzz"
    return "fonttools"


@checks.register(checks.Tags.compatibility)
def check_pdf_subsetter(app_configs=None, **kwargs):
    try:
        subsetter = pdf_subsetter()
    except OSError:  # WeasyPrint's native libraries are missing altogether
        subsetter = "missing"
    if subsetter == "harfbuzz":
        return []
    return [
        checks.Warning(
            "WeasyPrint cannot subset fonts with HarfBuzz: Chinese PDFs will take 10-20 s each.",
            hint="Install libharfbuzz-subset0 (HarfBuzz >= 4.1) and pango.",
            id="orgs.W001",
        )
    ]


class URLRefused(ValueError):
    """A PDF template asked for something other than a data: URL or one of our static files."""


@cache
def _fetcher_class():
    """Defined on first use, so importing this module (the admin does, at start-up) does not
    load WeasyPrint and its native libraries."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class SafeURLFetcher(URLFetcher):
        """Serves `data:` URLs and our static files; refuses everything else by raising
        `URLRefused` (WeasyPrint then skips the resource and logs it). Static files are read
        from disk here, never through urllib; urllib itself may only open data: URLs and
        follows no redirect, in case a later WeasyPrint calls it another way."""

        def __init__(self, **kwargs):
            super().__init__(allowed_protocols=("data",), allow_redirects=False, **kwargs)

        def fetch(self, url, headers=None):
            if urlsplit(url).scheme.lower() == "data":
                return super().fetch(url, headers)
            name = static_name(url)
            if name is None:
                raise URLRefused(f"refused: {url[:200]}")
            path = _find_static(name)
            if path is None:
                raise URLRefused(f"no such static file: {name[:200]}")
            content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
            with open(path, "rb") as handle:  # a path the staticfiles finders or storage gave
                body = handle.read()
            return URLFetcherResponse(url, body, {"Content-Type": content_type})

    return SafeURLFetcher


def safe_url_fetcher():
    """A new `weasyprint.urls.URLFetcher` for one render: data: URLs and our static files only.
    Pass the same one to `HTML(...)` and to every `CSS(...)`."""
    return _fetcher_class()()


def static_name(url: str) -> str | None:
    """The static file name an absolute PDF URL points to, or None if it is not one of ours."""
    prefix = urljoin(PDF_BASE_URL, settings.STATIC_URL)
    if not url.startswith(prefix):
        return None
    name = unquote(urlsplit(url[len(prefix) :]).path)
    parts = PurePosixPath(name).parts
    if not name or name.startswith("/") or "\\" in name or ".." in parts or "." in parts:
        return None
    return name


def _find_static(name: str) -> str | None:
    """The file on disk: the app's own static folders (development, tests), else the collected
    static files (production, where `{% static %}` gives hashed names)."""
    try:
        found = finders.find(name)
        if found:
            return found
        if staticfiles_storage.exists(name):
            return staticfiles_storage.path(name)
    except (SuspiciousFileOperation, NotImplementedError):
        return None
    return None


def html_to_pdf(html: str, *, stylesheets=()) -> bytes:
    """PDF bytes of an HTML string, with `pdf_options()` and the safe fetcher. `stylesheets`
    are static file names; the HTML may also link static files made with `{% static %}`."""
    from weasyprint import CSS, HTML

    fetcher = safe_url_fetcher()
    static_base = urljoin(PDF_BASE_URL, settings.STATIC_URL)
    css = [CSS(url=static_base + name, url_fetcher=fetcher) for name in stylesheets]
    document = HTML(string=html, base_url=PDF_BASE_URL, url_fetcher=fetcher)
    return document.write_pdf(stylesheets=css, **pdf_options())


def render_pdf(template_name: str, context: dict, *, stylesheets=()) -> bytes:
    """Render a template (autoescaped, like every Django template) to PDF bytes."""
    return html_to_pdf(render_to_string(template_name, context), stylesheets=stylesheets)
