"""Login throttling (django-axes): five wrong passwords for one username from one address lock
that pair for 15 minutes, even against the right password; other users and other addresses are
unaffected; a success resets the count; a county administrator sees and lifts the lockouts of
the county's users in the admin, and only theirs."""

import html
import re
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from orgs.demo import DEMO_PASSWORD
from orgs.models import User

LOGIN = "/accounts/login/"


def attempt(client, username, password, address="10.0.0.1"):
    return client.post(
        LOGIN,
        {"username": username, "password": password},
        HTTP_X_FORWARDED_FOR=address,
    )


def fail(client, username, times, address="10.0.0.1"):
    """`times` wrong passwords: the form with its error, until the fifth locks the pair."""
    for number in range(1, times + 1):
        response = attempt(client, username, "wrong-password", address)
        if number < settings.AXES_FAILURE_LIMIT:
            assert response.status_code == 200 and response.context["form"].errors
        else:
            assert is_locked_out_page(response)


def is_locked_out_page(response) -> bool:
    return response.status_code == 429 and "暂时无法登录" in response.content.decode()


def test_the_configuration(settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME == timedelta(minutes=15)
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert settings.AXES_RESET_ON_SUCCESS is True
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"


def test_five_failures_lock_the_username_even_with_the_right_password(client, users):
    fail(client, "clerk_450102", 5)
    response = attempt(client, "clerk_450102", DEMO_PASSWORD)
    assert is_locked_out_page(response)
    body = response.content.decode()
    assert "连续 5 次密码错误" in body and "15 分钟后再试" in body
    assert "Content-Security-Policy" in response  # the lockout page is a normal page
    assert client.get("/").status_code == 302  # not signed in


def test_four_failures_do_not_lock(client, users):
    fail(client, "clerk_450102", 4)
    assert attempt(client, "clerk_450102", DEMO_PASSWORD).status_code == 302


def test_other_users_and_other_addresses_are_unaffected(client, users):
    fail(client, "clerk_450102", 5)
    assert attempt(client, "supervisor_450102", DEMO_PASSWORD).status_code == 302
    client.logout()
    # The same username from another workstation: the lock is on the pair.
    assert attempt(client, "clerk_450102", DEMO_PASSWORD, address="10.0.0.2").status_code == 302


def test_a_success_resets_the_count(client, users):
    fail(client, "clerk_450102", 4)
    assert attempt(client, "clerk_450102", DEMO_PASSWORD).status_code == 302
    client.logout()
    fail(client, "clerk_450102", 4)
    assert attempt(client, "clerk_450102", DEMO_PASSWORD).status_code == 302


def test_the_lock_lifts_after_the_cool_off(client, users):
    fail(client, "clerk_450102", 5)
    assert is_locked_out_page(attempt(client, "clerk_450102", DEMO_PASSWORD))
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=16)
    )
    assert attempt(client, "clerk_450102", DEMO_PASSWORD).status_code == 302


def test_the_admin_login_page_is_throttled_too(client, users):
    for _ in range(5):
        client.post(
            reverse("admin:login"),
            {"username": "supervisor_450102", "password": "nope", "next": "/admin/"},
            HTTP_X_FORWARDED_FOR="10.0.0.1",
        )
    response = client.post(
        reverse("admin:login"),
        {"username": "supervisor_450102", "password": DEMO_PASSWORD, "next": "/admin/"},
        HTTP_X_FORWARDED_FOR="10.0.0.1",
    )
    assert is_locked_out_page(response)


def test_county_administrator_sees_and_lifts_a_lockout(client, login, users):
    fail(client, "clerk_450102", 5)
    fail(client, "clerk_450103", 5)
    locked = AccessAttempt.objects.get(username="clerk_450102")
    admin = login("admin_450102")
    listing = admin.get(reverse("admin:axes_accessattempt_changelist"))
    assert listing.status_code == 200
    assert "clerk_450102" in listing.content.decode()
    assert "clerk_450103" not in listing.content.decode()  # another county's user
    other = AccessAttempt.objects.get(username="clerk_450103")
    assert admin.get(reverse("admin:axes_accessattempt_change", args=[other.pk])).status_code in (
        302,
        404,
    )
    # Nothing to edit, only to delete (= unlock).
    change = admin.get(reverse("admin:axes_accessattempt_change", args=[locked.pk]))
    assert change.status_code == 200 and 'name="_save"' not in change.content.decode()
    response = admin.post(
        reverse("admin:axes_accessattempt_delete", args=[locked.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    client.logout()
    assert attempt(client, "clerk_450102", DEMO_PASSWORD).status_code == 302


def test_a_superusers_lockout_is_out_of_a_county_administrators_reach(client, login, orgs):
    """A superuser is only another superuser's to edit (UserAdmin), so is its lockout: a county
    administrator neither lists nor lifts it, even of a superuser placed in the county."""
    root = User.objects.create_superuser("root_450102", password="x" * 12)
    root.organisation = orgs["450102"]
    root.save()
    fail(client, "root_450102", 5)
    locked = AccessAttempt.objects.get(username="root_450102")
    admin = login("admin_450102")
    listing = admin.get(reverse("admin:axes_accessattempt_changelist")).content.decode()
    assert "root_450102" not in listing
    change = admin.get(reverse("admin:axes_accessattempt_change", args=[locked.pk]))
    assert change.status_code == 404
    admin.post(reverse("admin:axes_accessattempt_delete", args=[locked.pk]), {"post": "yes"})
    assert AccessAttempt.objects.filter(pk=locked.pk).exists()
    logins = admin.get(reverse("admin:axes_accesslog_changelist")).content.decode()
    assert "root_450102" not in logins


@pytest.mark.parametrize("username", ["clerk_450102", "supervisor_450102", "finance_450102"])
def test_only_administrators_see_login_attempts(login, username):
    response = login(username).get(reverse("admin:axes_accessattempt_changelist"))
    assert response.status_code in (302, 403)


def test_passwords_need_ten_characters(users):
    with pytest.raises(ValidationError) as error:
        validate_password("Zq8#kLm2p", user=users["clerk_450102"])  # nine characters
    assert any(e.code == "password_too_short" for e in error.value.error_list)
    validate_password("Zq8#kLm2pW", user=users["clerk_450102"])
    validate_password(DEMO_PASSWORD, user=users["clerk_450102"])  # the demo password still works
    assert settings.AUTH_PASSWORD_VALIDATORS[1]["OPTIONS"] == {"min_length": 10}


def test_an_unlock_from_the_users_page_returns_to_it(client, login, users):
    fail(client, "clerk_450102", 5)
    clerk = users["clerk_450102"]
    admin = login("admin_450102")
    user_page = reverse("admin:orgs_user_change", args=[clerk.pk])
    page = admin.get(user_page).content.decode()
    assert "解除登录锁定（10.0.0.1）" in page
    unlock = re.search(r'href="([^"]*/axes/accessattempt/\d+/delete/\?next=[^"]*)"', page)
    unlock = html.unescape(unlock.group(1))
    assert admin.get(unlock).status_code == 200  # Django's confirmation page
    response = admin.post(unlock, {"post": "yes"}, follow=True)
    assert response.redirect_chain == [(user_page, 302)]
    assert "已解除 clerk_450102 的登录锁定。" in response.content.decode()
    assert "解除登录锁定" not in response.content.decode()
    client.logout()
    assert attempt(client, "clerk_450102", DEMO_PASSWORD).status_code == 302


def test_an_unlock_from_the_attempts_list_returns_to_it(client, login, users):
    fail(client, "clerk_450102", 5)
    locked = AccessAttempt.objects.get(username="clerk_450102")
    admin = login("admin_450102")
    delete = reverse("admin:axes_accessattempt_delete", args=[locked.pk])
    for unsafe in ("", "?next=https://evil.example/admin/", "?next=/accounts/logout/"):
        with transaction.atomic():
            response = admin.post(delete + unsafe, {"post": "yes"})
            assert response.url == reverse("admin:axes_accessattempt_changelist")
            transaction.set_rollback(True)
    response = admin.post(delete, {"post": "yes"}, follow=True)
    assert "已解除 clerk_450102 的登录锁定。" in response.content.decode()


def test_only_those_who_may_unlock_see_the_link(client, login, users):
    fail(client, "clerk_450102", 5)
    user_page = reverse("admin:orgs_user_change", args=[users["clerk_450102"].pk])
    page = login("supervisor_450102").get(user_page)  # reads users, may not unlock them
    assert page.status_code == 200 and "解除登录锁定" not in page.content.decode()


# --- 解除登录锁定 on the user list ---------------------------------------------------------


def user_list(client, **query):
    return client.get(reverse("admin:orgs_user_changelist"), query)


def lock_column(page) -> dict[str, str]:
    """{username: what the 登录锁定 column says} of a user list page."""
    rows = re.findall(
        r'<th class="field-username"><a [^>]*>([^<]+)</a></th>.*?'
        r'<td class="field-login_lock">([^<]*)</td>',
        page,
        re.S,
    )
    return dict(rows)


def test_the_user_list_shows_who_is_locked_out(client, login, users):
    fail(client, "clerk_450102", 5)
    fail(client, "clerk_450103", 5)  # another county's
    page = user_list(login("admin_450102")).content.decode()
    column = lock_column(page)
    assert column["clerk_450102"] == "已锁定"
    assert column["finance_450102"] == "-"
    assert "clerk_450103" not in column
    assert '<option value="unlock_logins">解除登录锁定</option>' in page


def test_a_lockout_past_its_cool_off_is_no_longer_shown(client, login, users):
    """Axes lets the pair in again once the cool-off has run since the last failure; its row
    stays until the next attempt, but the user is not locked."""
    fail(client, "clerk_450102", 5)
    admin = login("admin_450102")
    assert lock_column(user_list(admin).content.decode())["clerk_450102"] == "已锁定"
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    )
    assert lock_column(user_list(admin).content.decode())["clerk_450102"] == "-"
    client.logout()
    assert attempt(client, "clerk_450102", DEMO_PASSWORD).status_code == 302  # axes agrees


def test_the_list_unlocks_the_selected_users_after_a_confirmation(client, login, users):
    fail(client, "clerk_450102", 5)
    fail(client, "clerk_450102", 5, address="10.0.0.2")
    fail(client, "supervisor_450102", 5)
    admin = login("admin_450102")
    url = reverse("admin:orgs_user_changelist")
    selected = [users["clerk_450102"].pk, users["finance_450102"].pk]
    choose = {"action": "unlock_logins", "_selected_action": selected, "index": 0}
    page = admin.post(f"{url}?q=450102", choose)
    body = page.content.decode()
    assert page.status_code == 200 and 'name="post" value="yes"' in body
    assert "<li>clerk_450102 王录入员：已锁定（10.0.0.1、10.0.0.2）</li>" in body
    assert "<li>finance_450102 张财务：未锁定</li>" in body
    assert AccessAttempt.objects.filter(username="clerk_450102").count() == 2  # nothing yet
    response = admin.post(f"{url}?q=450102", {**choose, "post": "yes"}, follow=True)
    assert response.redirect_chain == [(f"{url}?q=450102", 302)]  # the list, as it was
    assert "已解除 clerk_450102 的登录锁定。" in response.content.decode()
    assert lock_column(response.content.decode())["clerk_450102"] == "-"
    assert not AccessAttempt.objects.filter(username="clerk_450102").exists()
    assert AccessAttempt.objects.filter(username="supervisor_450102").exists()  # not selected
    client.logout()
    assert attempt(client, "clerk_450102", DEMO_PASSWORD, address="10.0.0.2").status_code == 302


def test_unlocking_selected_users_none_of_whom_is_locked(client, login, users):
    admin = login("admin_450102")
    url = reverse("admin:orgs_user_changelist")
    choose = {"action": "unlock_logins", "_selected_action": [users["clerk_450102"].pk]}
    page = admin.post(url, choose).content.decode()
    assert "所选用户都没有被锁定。" in page and 'name="post"' not in page


@pytest.mark.parametrize(
    ("username", "sees_column"),
    [("supervisor_450102", False), ("admin_450103", True)],  # no right to unlock; elsewhere
)
def test_who_may_not_unlock_a_user_cannot_from_the_list(
    client, login, users, username, sees_column
):
    fail(client, "clerk_450102", 5)
    other = login(username)
    page = user_list(other).content.decode()
    assert ("field-login_lock" in page) is sees_column
    assert ("clerk_450102" in lock_column(page)) is False
    forged = {
        "action": "unlock_logins",
        "_selected_action": [users["clerk_450102"].pk],
        "post": "yes",
    }
    other.post(reverse("admin:orgs_user_changelist"), forged)
    assert AccessAttempt.objects.filter(username="clerk_450102").exists()
    client.logout()
    assert is_locked_out_page(attempt(client, "clerk_450102", DEMO_PASSWORD))
