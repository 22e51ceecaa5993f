"""ID numbers: GB 11643 validation, encryption at rest, masking, and no duplicate open files."""

import threading
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from households import idnumbers, services
from households.models import Household, IdentityClaim, Member
from households.services import MemberData
from orgs.pii import mask, mask_phone
from tests.households.conftest import new_id

VALID = "11010519491231002X"  # the standard's own example


def test_valid_number_with_x_check_digit():
    assert idnumbers.validate_id_number("11010519491231002x") == VALID


@pytest.mark.parametrize(
    "first17, check",
    [("11010519491231002", "X"), ("44052418800101001", "4"), ("00000000000000000", "1")],
)
def test_check_char_by_the_standard(first17, check):
    assert idnumbers.check_char(first17) == check
    # Digits typed full-width take the slower path and give the same check character.
    wide = "".join(chr(ord(c) + 0xFEE0) for c in first17)
    assert idnumbers.check_char(wide) == check


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("1101051949123100", "id_length"),
        ("11010519491231002Y", "id_chars"),
        ("110105194913310021", "id_birth_date"),
        ("110105210001010026", "id_birth_date"),
        ("110105194912310021", "id_check_digit"),
    ],
)
def test_invalid_numbers_say_what_is_wrong(value, code):
    with pytest.raises(ValidationError) as exc:
        idnumbers.validate_id_number(value)
    assert exc.value.code == code


def test_generated_numbers_are_valid():
    number = idnumbers.make_id_number("450102", date(1985, 6, 1), 123)
    assert idnumbers.validate_id_number(number) == number
    assert idnumbers.sex_of(number) == "male"


def test_numbers_are_encrypted_at_rest_and_masked(make_household):
    number = idnumbers.make_id_number("450102", date(1985, 3, 15), 1)
    household = make_household(id_number=number, worker_name="张小明")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id_number, id_masked FROM households_household WHERE id = %s", [household.pk]
        )
        stored, masked = cursor.fetchone()
    assert number not in stored and "19850315" not in stored
    assert masked == f"450102********{number[-4:]}"
    assert Household.objects.get(pk=household.pk).id_number == number
    assert Household.objects.get(id_hash=idnumbers.id_hash(number)) == household


def test_same_worker_cannot_be_filed_twice(make_household):
    number = new_id()
    first = make_household(id_number=number)
    with pytest.raises(ValidationError) as exc:
        make_household(id_number=number, worker_name="冒名")
    assert first.file_number in exc.value.message_dict["id_number"][0]
    assert Household.objects.count() == 1  # nothing half saved


def test_member_of_one_file_cannot_be_worker_of_another(make_household):
    spouse = new_id(1982)
    make_household(members=[MemberData(relation="spouse", name="李芳", id_number=spouse)])
    with pytest.raises(ValidationError) as exc:
        make_household(id_number=spouse)
    assert "不能重复建档" in exc.value.message_dict["id_number"][0]


def test_other_county_is_told_only_that_the_person_is_on_file(make_household):
    number = new_id()
    make_household(id_number=number)
    with pytest.raises(ValidationError) as exc:
        make_household(id_number=number, by="clerk_450103", org="450103")
    message = exc.value.message_dict["id_number"][0]
    assert message == "此人已在其他组织建档，不能重复建档。"


def test_member_listed_twice_is_refused(make_household):
    twice = new_id(1990)
    with pytest.raises(ValidationError) as exc:
        make_household(
            members=[
                MemberData(relation="child", name="甲", id_number=twice),
                MemberData(relation="child", name="乙", id_number=twice),
            ]
        )
    assert "成员重复" in exc.value.message_dict["members"][0]
    assert not Household.objects.exists() and not Member.objects.exists()


def wide(text: str) -> str:
    """The same characters typed full-width (digits and letters, as a Chinese IME gives them)."""
    return "".join(chr(ord(c) + 0xFEE0) if c.isalnum() else c for c in text)


def test_full_width_digits_are_made_ascii():
    assert wide("45x") == "４５ｘ"
    assert idnumbers.validate_id_number(wide(VALID.lower())) == VALID
    assert idnumbers.validate_id_number(f" {wide(VALID[:6])}　{VALID[6:]} ") == VALID
    assert idnumbers.id_hash(wide(VALID)) == idnumbers.id_hash(VALID)


def test_digits_of_other_scripts_are_refused():
    arabic_indic = "".join(chr(0x0660 + int(c)) for c in VALID[:17]) + "X"
    with pytest.raises(ValidationError) as exc:
        idnumbers.validate_id_number(arabic_indic)
    assert exc.value.code == "id_chars"


def test_a_number_typed_full_width_is_stored_ascii(make_household):
    number = new_id()
    household = make_household(id_number=wide(number))
    stored = Household.objects.get(pk=household.pk)
    assert stored.id_number == number
    assert stored.id_hash == idnumbers.id_hash(number)
    assert stored.id_masked == f"{number[:6]}********{number[-4:]}"
    member = stored.members.get(relation="self")
    assert member.id_number == number and member.id_hash == stored.id_hash


def test_a_person_on_file_typed_full_width_is_still_a_duplicate(make_household):
    number = "45010219580618000X"  # typed as ４５０１０２１９５８０６１８０００ｘ below
    first = make_household(id_number=number)
    for typed in (wide(number.lower()), wide(number)):
        with pytest.raises(ValidationError) as exc:
            make_household(id_number=typed, worker_name="冒名")
        assert first.file_number in exc.value.message_dict["id_number"][0]
    spouse = first.members.exclude(relation="self").get()
    with pytest.raises(ValidationError) as exc:
        make_household(
            members=[MemberData(relation="spouse", name="李芳", id_number=wide(spouse.id_number))]
        )
    message = exc.value.message_dict["members"][0]
    assert message.startswith("家庭成员 李芳：") and "不能重复建档" in message  # which member
    assert Household.objects.count() == 1


def test_a_bank_account_typed_full_width_is_stored_ascii(make_household):
    household = make_household(bank_account="６２２２　０２０２ ００１１２２３３４４５")
    stored = Household.objects.get(pk=household.pk)
    assert stored.bank_account == "6222020200112233445"
    assert stored.bank_account_masked == mask("6222020200112233445")
    with pytest.raises(ValidationError) as exc:
        make_household(bank_account="".join(chr(0x0660 + int(c)) for c in "62220202001122"))
    assert "bank_account" in exc.value.message_dict


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("450102199001011234", "450102********1234"),  # an ID number: only the birth date hidden
        ("6222020200112233445", "622202*********3445"),  # 19 digits: first 6 and last 4, as ever
        ("6222000011112222", "6222********2222"),  # 16: half hidden, so two leading digits fewer
        ("622202123456", "62******3456"),  # 12: was 622202**3456
        ("62220212345", "6******2345"),  # 11: was 622202*2345, one digit hidden
        ("1234567890", "******7890"),  # up to 10: only the tail, as before
        ("12345678", "****5678"),  # the shortest account accepted
        ("123", "***"),
        ("", ""),
    ],
)
def test_a_masked_copy_hides_at_least_half_up_to_eight_and_never_fewer_than_four(value, shown):
    """The first 6 and last 4 of an 11-digit account left one digit hidden: a mask hides at
    least half of the value (rounded up), up to the 8 an ID number's mask hides, and at least 4."""
    assert mask(value) == shown


@pytest.mark.parametrize("account", ["62220212345", "622202123456"])
def test_a_short_bank_account_is_really_masked(make_household, account):
    household = make_household(bank_name="农村信用社", bank_account=account)
    stored = Household.objects.get(pk=household.pk)
    assert stored.bank_account_masked.count("*") >= 4, stored.bank_account_masked
    assert stored.bank_account_masked == mask(account)


def old_mask(value: str) -> str:
    """The mask before households 0021: the first 6 and last 4, or only the last 4 up to 10."""
    if len(value) <= 10:
        return "*" * (len(value) - 4) + value[-4:]
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def test_the_migration_masks_the_short_accounts_stored_before_again(make_household):
    """Masked copies are stored (lists and exports never decrypt): those of 11 to 17 digits,
    on the file and in its history, are cut again from the old mask; the others stay."""
    from importlib import import_module

    from django.apps import apps

    migration = import_module("households.migrations.0021_short_bank_accounts_masked")
    accounts = ["6222020200112233445"[:size] for size in (8, 10, 11, 12, 15, 16, 17, 18, 19)]
    households = [make_household(bank_account=account) for account in accounts]
    for household, account in zip(households, accounts, strict=True):
        Household.objects.filter(pk=household.pk).update(bank_account_masked=old_mask(account))
        household.history.update(bank_account_masked=old_mask(account))
    migration.remask_accounts(apps, None)
    for household, account in zip(households, accounts, strict=True):
        assert Household.objects.get(pk=household.pk).bank_account_masked == mask(account)
        assert set(household.history.values_list("bank_account_masked", flat=True)) == {
            mask(account)
        }


def test_closed_file_frees_the_number_and_reopening_claims_it_again(make_household, users, walk):
    from households.models import ClosureRequest

    number = new_id()
    household = walk(make_household(id_number=number), "on_file")
    closure = services.closure_request(
        user=users["clerk_450102"],
        household=household,
        kind="exited",
        effective_date=household.current_period.filed_on,
        reason="收入连续六个月高于低保标准",
    )
    services.closure_decide(
        user=users["supervisor_450102"], closure=closure, approve=True, note="同意"
    )
    assert ClosureRequest.objects.get().state == "approved"
    assert not IdentityClaim.objects.filter(household=household).exists()
    # The same county is sent to 重新申请 on the closed file; another county may file the
    # person anew, and the closed file then cannot be reopened while that one is open.
    with pytest.raises(ValidationError, match="重新申请"):
        make_household(id_number=number, worker_name="另一份")
    other = make_household(id_number=number, worker_name="另一份", by="clerk_450103", org="450103")
    household.refresh_from_db()
    with pytest.raises(ValidationError):
        services.transition_apply(
            user=users["clerk_450102"], household=household, action="reopen", reason="再次困难"
        )
    household.refresh_from_db()
    assert household.status == "exited" and other.status == "draft"


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_concurrent_creations_make_one_file(orgs, users):
    """Two clerks file the same person at the same moment: the database lets one through."""
    from households.models import Cause, DibaoStandard

    DibaoStandard.objects.create(
        organisation=orgs["450000"], year=timezone.localdate().year, monthly_amount=1000
    )
    number = new_id()
    barrier = threading.Barrier(2)
    outcomes = []

    def file_it(username, org_code):
        try:
            household = Household(
                organisation=orgs[org_code],
                worker_name="并发",
                id_number=number,
                primary_cause=Cause.objects.get(code="illness"),
            )
            barrier.wait(timeout=10)
            services.household_create(
                user=users[username],
                household=household,
                members=[MemberData(relation="self", name="")],
            )
            outcomes.append("created")
        except ValidationError as exc:
            outcomes.append(exc.message_dict["id_number"][0])
        finally:
            connection.close()  # each thread has its own connection

    threads = [
        threading.Thread(target=file_it, args=("clerk_450102", "450102")),
        threading.Thread(target=file_it, args=("clerk_450103", "450103")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes)[0] == "created" and len(outcomes) == 2
    assert outcomes.count("created") == 1
    assert Household.objects.filter(id_hash=idnumbers.id_hash(number)).count() == 1


@pytest.mark.parametrize(
    ("phone", "shown"),
    [
        ("13812345678", "138****5678"),
        ("+8613812345678", "+86*******5678"),
        ("5551234", "*****34"),  # a landline: head and tail would be the whole number
        ("12", "12"),
        ("", ""),
    ],
)
def test_phone_numbers_are_masked_without_giving_them_away(phone, shown):
    assert mask_phone(phone) == shown
