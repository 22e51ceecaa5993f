"""What the rules of an assistance request read from the database (funds.services
request_create and funds.standards check_request): the standards in force, the dibao line, the
household's active requests of the year, the file's status on the day, the closed years.

A single request reads one household's facts on demand; a batch of requests (funds/batches.py)
loads those of every household at once (`load`), so its queries do not grow with the number of
households while the very same rule functions apply to each. Read once, kept for the life of
the object: make a new one for each decision (after taking the locks it needs)."""

from datetime import date

from funds.models import ACTIVE_STATES, AssistanceRequest, AssistanceStandard, ClosedYear
from households.models import DibaoStandard, Household, Member, Transition
from orgs.models import Organisation


def transition_on(household: Household, day: date) -> Transition | None:
    """The transition that gave the file its status on a date (None before it existed)."""
    return _transitions_on([household.pk], day).get(household.pk)


def _transitions_on(keys, day: date) -> dict[int, Transition]:
    found: dict[int, Transition] = {}
    rows = (
        Transition.objects.in_force_on(day)
        .filter(household__in=keys)
        .order_by("household_id", "-effective_date", "-id")
    )
    for row in rows:
        found.setdefault(row.household_id, row)  # the latest of each file comes first
    return found


def closed_year_of(organisation: Organisation, day: date):
    """The closure of `day`'s year by this organisation or one above it, if any."""
    return (
        ClosedYear.objects.filter(
            organisation__in=[org.pk for org in organisation.ancestors_and_self], year=day.year
        )
        .select_related("organisation")
        .first()
    )


class RequestFacts:
    def __init__(self):
        self._standards: dict = {}
        self._lines: dict = {}
        self._requests: dict = {}
        self._statuses: dict = {}
        self._closed: dict = {}
        self._members: dict = {}
        self._households: list = []  # those `load` read: their members are read together

    def load(self, *, households, year: int, day: date) -> None:
        """Read the facts of many households at once: their active requests of `year`, their
        status on `day` and the dibao lines of their organisations (three queries)."""
        keys = [household.pk for household in households]
        self._households = list(households)
        self._load_requests(keys, year)
        statuses = _transitions_on(keys, day)
        for key in keys:
            row = statuses.get(key)
            self._statuses[(key, day)] = row.to_status if row is not None else ""
        organisations = list({h.organisation_id: h.organisation for h in households}.values())
        self._lines.update(
            {
                (pk, year): line
                for pk, line in DibaoStandard.objects.in_force(organisations, year).items()
            }
        )

    def standards(self, *, organisation: Organisation, year: int, assistance_type) -> dict:
        """tier -> standard (AssistanceStandard.objects.by_tier), once per organisation."""
        key = (organisation.pk, year, assistance_type.pk)
        if key not in self._standards:
            self._standards[key] = AssistanceStandard.objects.by_tier(
                organisation=organisation, year=year, assistance_type=assistance_type
            )
        return self._standards[key]

    def dibao_line(self, organisation: Organisation, year: int):
        key = (organisation.pk, year)
        if key not in self._lines:
            self._lines[key] = DibaoStandard.objects.in_force([organisation], year)[organisation.pk]
        return self._lines[key]

    def requests(self, household: Household, year: int) -> list:
        """The household's requests of the year that count (ACTIVE_STATES), oldest first."""
        if (household.pk, year) not in self._requests:
            self._load_requests([household.pk], year)
        return self._requests[(household.pk, year)]

    def _load_requests(self, keys, year: int) -> None:
        found = {(key, year): [] for key in keys}
        rows = (
            AssistanceRequest.objects.filter(household__in=keys, year=year, state__in=ACTIVE_STATES)
            .select_related("assistance_type")
            .order_by("pk")
        )
        for row in rows:
            found[(row.household_id, year)].append(row)
        self._requests.update(found)

    def add(self, request: AssistanceRequest) -> None:
        """Count a request built but not saved yet (a batch's) as one saved: the rules applied
        next see it, as request_create's next call sees the request saved before it."""
        self.requests(request.household, request.year).append(request)

    def members(self, household: Household) -> list:
        """The household's members, in file order. The first asked reads those of every
        household `load` read (one query), as only a batch under a per-person standard needs."""
        if household.pk not in self._members:
            self._load_members([*self._households, household])
        return self._members[household.pk]

    def _load_members(self, households) -> None:
        found = {household.pk: [] for household in households}
        for member in Member.objects.filter(household__in=list(found)).order_by("household", "id"):
            found[member.household_id].append(member)
        self._members.update(found)

    def status_on(self, household: Household, day: date) -> str:
        """The file's status on a date ("" before it existed)."""
        if (household.pk, day) not in self._statuses:
            row = transition_on(household, day)
            self._statuses[(household.pk, day)] = row.to_status if row is not None else ""
        return self._statuses[(household.pk, day)]

    def closed_year(self, organisation: Organisation, day: date):
        key = (organisation.pk, day.year)
        if key not in self._closed:
            self._closed[key] = closed_year_of(organisation, day)
        return self._closed[key]
