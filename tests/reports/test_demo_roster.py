"""The demo files as the roster prints them: men and women, each as their ID number says."""

from io import StringIO

from django.core.management import call_command
from django.utils import timezone

from households.models import Household, Member
from reports import roster


def test_the_demo_roster_has_men_and_women_as_their_id_numbers_say(orgs):
    call_command("seed_demo", households=40, stdout=StringIO())
    county = orgs["450102"]
    lines = list(roster.rows(roster.households_on(county, timezone.localdate()), full=True))
    assert lines
    # The ID number's 17th digit is odd for a man, even for a woman.
    assert {(line[3], int(line[4][16]) % 2) for line in lines} == {("男", 1), ("女", 0)}
    assert set(Household.objects.values_list("sex", flat=True)) == {"male", "female"}
    spouses = Member.objects.filter(relation="spouse").select_related("household")
    assert all(
        int(spouse.id_number[16]) % 2 != int(spouse.household.id_number[16]) % 2
        for spouse in spouses
    )
