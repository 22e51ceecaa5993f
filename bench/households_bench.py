"""Benchmark of issue 3 (run by hand; results in README).

    DATABASE_URL=postgres://…/bangfu_bench .venv/bin/python bench/households_bench.py

With 1,000,000 households from `seed_demo --households 1000000`, the staff list page (filtered,
sorted, paginated) and the search by ID number each answer, rendered, in under 100 ms median,
measured through Django's test client as the county clerk and as the region's viewer."""

from common import machine, report, setup, timed

setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from households.models import Cause, Household  # noqa: E402
from orgs.models import User  # noqa: E402

TARGET = 0.100


def main():
    total = Household.objects.count()
    print(
        f"machine: {machine()}; date: {timezone.localdate()}; database: {connection.vendor}; "
        f"households: {total:,}"
    )
    illness = Cause.objects.get(code="illness").pk
    sample = Household.objects.filter(status="on_file").order_by("-id")[1234]
    cases = [
        ("list, first page", {}),
        (
            "list, filtered: on file + illness + migrant",
            {"status": "on_file", "primary_cause": illness, "is_migrant_worker": "true"},
        ),
        (
            "list, filtered and sorted by per-capita income",
            {"status": "on_file", "sort": "per_capita_income"},
        ),
        ("list, survey overdue, 100 a page", {"survey_overdue": "true", "page_size": 100}),
        ("list, page 40", {"status": "relieved", "page": 40}),
        ("search by ID number", {"q": sample.id_number}),
        ("search by name prefix", {"q": sample.worker_name[:2]}),
        ("search by file number", {"q": sample.file_number}),
    ]
    for username in ("clerk_450102", "viewer_450000"):
        client = Client()
        client.force_login(User.objects.get(username=username))
        print(f"-- as {username}")
        for name, params in cases:

            def fetch(params=params, client=client):
                response = client.get("/households/", params)
                assert response.status_code == 200, response.status_code
                return response

            body = fetch().content.decode()
            if name == "search by ID number" and username == "clerk_450102":
                assert sample.file_number in body, "the search did not find the file"
            median, best = timed(fetch, repeat=21, warmup=3)
            report(f"{name} (best {best * 1000:.0f} ms)", median, TARGET)


if __name__ == "__main__":
    main()
