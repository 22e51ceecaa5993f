"""The summary PDF: the shared Bangfu PDF plumbing (safe fetcher, HarfBuzz font subsetting)
with the report's print stylesheet."""

from orgs.pdf import html_to_pdf

STYLESHEETS = ("reports/summary-print.css",)


def render_pdf(html: str) -> bytes:
    return html_to_pdf(html, stylesheets=STYLESHEETS)
