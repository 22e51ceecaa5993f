"""Searches by resident ID number that keep the number out of URLs (PIPL art. 51).

A query string is written to web-server access logs, browser history and bookmarks, and travels
in the links of the page. So a search box whose text may be an ID number is posted, and the view
answers with a 303 back to the list (post/redirect/get): its address carries the text in `q` when
the text is not an ID number, and the number's keyed hash in `idh` when it is (HMAC-SHA256 under
PII_HASH_KEY, orgs.pii.keyed_hash: the stored `id_hash` columns, not reversible without the key).
The session keeps the masked number under its hash, so the box shows what was searched
(450102********1234). Pagination, sorting and filter links copy the query string, hash included.

A GET whose `q` holds an ID number (an old bookmark, a typed address) still searches, through an
immediate redirect to the `idh` form.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from django.contrib import messages
from django.http import HttpResponseRedirect, QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from orgs.audit import log_access
from orgs.models import AccessLog
from orgs.pii import FULL_NUMBERS, keyed_hash, mask

TEXT = "q"
HASH = "idh"
SESSION_KEY = "id_searches"
REMEMBERED = 20  # masked numbers kept in the session, the latest searches
SEARCHES_PER_HOUR = 20  # for those who see numbers masked (_search_allowed)
# Parameters a new search drops: the CSRF token, and the page (a new search starts at page 1).
NOT_CARRIED = ("csrfmiddlewaretoken", "page", "p")

# For a list whose records hold no ID numbers (the admin's, say), when one was typed.
NOT_SEARCHABLE = gettext_lazy("此列表不能按身份证号码查找。")

_HEX_HASH = re.compile(r"[0-9a-f]{64}")
# 17 digits and a digit or X, or the 15 digits of a first-generation number, not inside a longer
# run of letters and digits (as orgs/logging.py). Not checked further: a mistyped number is as
# personal as a valid one.
_ID_NUMBER = re.compile(r"(?<![0-9A-Z])(?:[0-9]{17}[0-9X]|[0-9]{15})(?![0-9A-Z])")


def id_number_in(text: str) -> str:
    """The resident ID number a typed text holds, normalised (full-width digits made ASCII, no
    spaces, upper-case X, a 15-digit number in its 18-character form: what the stored hashes
    were made from), or "" when it holds none."""
    from households.idnumbers import normalise

    text = (text or "").upper()
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    # Spaces typed inside the number (450102 19900101 1234) first, then a number beside digits.
    found = _ID_NUMBER.search("".join(text.split())) or _ID_NUMBER.search(text)
    return normalise(found.group()) if found else ""


def search_hash(number: str) -> str:
    """The keyed hash a normalised number is stored with (households' `id_hash`, the service
    centre's `worker_id_hash`)."""
    return keyed_hash(number)


@dataclass(frozen=True)
class IdSearch:
    """A list's search by ID number, as its address gives it."""

    key: str  # the hash searched; "" when `idh` is not a hash: it matches nothing
    shown: str  # what the search box shows: the masked number, or a placeholder


def _remembered(request) -> dict:
    session = getattr(request, "session", None)
    return session.get(SESSION_KEY, {}) if session is not None else {}


def _shown(request, key: str) -> str:
    return _remembered(request).get(key) or _("（按身份证号码查找）")


def valid_hash(value) -> str:
    """`value` if it is a hash as `idh` carries it (64 lower-case hex digits), else ""."""
    return value if isinstance(value, str) and _HEX_HASH.fullmatch(value) else ""


def id_search(request) -> IdSearch | None:
    """The ID-number search of a list's address (None when it has none)."""
    if HASH not in request.GET:
        return None
    key = valid_hash(request.GET.get(HASH))
    return IdSearch(key=key, shown=_shown(request, key) if key else "")


def remember(request, number: str) -> str:
    """Keep the masked number under its hash for the box; return the hash, or "" (matches
    nothing) past the hourly limit of a user who sees numbers masked."""
    if not _search_allowed(request, number):
        return ""
    key = search_hash(number)
    kept = {k: v for k, v in _remembered(request).items() if k != key}
    kept[key] = mask(number)
    request.session[SESSION_KEY] = dict(list(kept.items())[-REMEMBERED:])
    return key


def _search_allowed(request, number: str) -> bool:
    """Whoever sees ID numbers masked (450110********001X) could find the hidden birth date by
    searching the candidates one by one (about 270 searches for a ten-year range) and watching
    which one lists the file: each such search is logged, and only SEARCHES_PER_HOUR a user."""
    user = request.user
    if not user.is_authenticated or user.has_perm(FULL_NUMBERS):
        return True
    since = timezone.now() - timedelta(hours=1)
    recent = AccessLog.objects.filter(user=user, action=AccessLog.Action.ID_SEARCH, at__gte=since)
    if recent.count() >= SEARCHES_PER_HOUR:
        messages.error(
            request,
            _("一小时内按身份证号码查找已达 %(limit)d 次，请稍后再试，或按姓名、档案编号查找。")
            % {"limit": SEARCHES_PER_HOUR},
            fail_silently=True,  # a request without the messages middleware (a test's)
        )
        return False
    # Filed under the searcher's organisation: the administrators above it read the log by it.
    log_access(
        request,
        action=AccessLog.Action.ID_SEARCH,
        organisation=getattr(user, "organisation", None),
        detail=mask(number),
    )
    return True


def form_data(request) -> QueryDict | None:
    """The list's query string for binding its filter form: with an ID-number search the box
    (`q`) shows the masked number instead of any text; filters skip `q` when `idh` is given."""
    search = id_search(request)
    if search is None:
        return request.GET or None
    data = request.GET.copy()
    data[TEXT] = search.shown
    return data


def _see_other(request, query: QueryDict) -> HttpResponseRedirect:
    url = request.path + (f"?{query.urlencode()}" if query else "")
    return HttpResponseRedirect(url, status=303)


def answer_search_post(request) -> HttpResponseRedirect:
    """The list's address for a posted search form (its fields, the box `q` and a hidden `idh`
    of the current search): the text goes to `q`, an ID number to `idh`; a box still showing the
    masked number of the current search keeps it."""
    request.reads_only = True  # a search, not a change (reports.routing.RecentWriteMiddleware)
    query = request.POST.copy()
    for name in NOT_CARRIED:
        query.pop(name, None)
    text = query.get(TEXT, "").strip()
    number = id_number_in(text)
    if number:
        query.pop(TEXT)
        query[HASH] = remember(request, number)
    elif query.get(HASH) and text and text == _shown(request, query[HASH]):
        query.pop(TEXT)
    else:
        query.pop(HASH, None)
    return _see_other(request, query)


def redirect_id_number_in_query(request) -> HttpResponseRedirect | None:
    """For a GET whose `q` holds an ID number (an old bookmark, a typed or pasted address): the
    same list by `idh`, at once. The number has already reached the access log with this request;
    the redirect keeps it out of the page's address, so out of history, bookmarks and the links
    the page builds from its query string."""
    number = id_number_in(request.GET.get(TEXT, ""))
    if not number:
        return None
    query = request.GET.copy()
    query.pop(TEXT)
    query[HASH] = remember(request, number)
    return _see_other(request, query)
