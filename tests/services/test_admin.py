"""The admin: windows are renamed and retired but a used window is never deleted; records and
their history are read-only and scoped."""

import pytest

from services.models import Case, Window

pytestmark = pytest.mark.django_db


def test_admin_renames_and_retires_a_window_but_cannot_delete_a_used_one(login, make_case, windows):
    make_case(window="petition")
    client = login("admin_450000")  # windows are shared: kept at the top of the tree
    petition = windows["petition"]
    response = client.post(
        f"/admin/services/window/{petition.pk}/change/",
        {"name": "来信来访接待", "sort_order": 10},  # is_active unticked: retired
    )
    assert response.status_code == 302
    petition.refresh_from_db()
    assert (petition.code, petition.name, petition.is_active) == ("petition", "来信来访接待", False)
    assert client.get(f"/admin/services/window/{petition.pk}/delete/").status_code == 403
    unused = Window.objects.create(code="model_workers", name="劳模服务")
    assert client.get(f"/admin/services/window/{unused.pk}/delete/").status_code == 200


@pytest.mark.parametrize("username", ["supervisor_450102", "admin_450102"])
def test_below_the_top_nobody_changes_the_shared_windows(login, windows, username):
    """A county's administrator retiring a window would retire it for every county."""
    pk = windows["petition"].pk
    response = login(username).post(
        f"/admin/services/window/{pk}/change/", {"name": "x", "sort_order": 1}
    )
    assert response.status_code == 403
    assert Window.objects.get(pk=pk).name == "信访接待"


def test_window_admin_counts_only_the_readers_cases(make_case, login):
    """Windows are shared by every county, their cases are not: 兴宁区's administrator counted
    青秀区's cases too."""
    make_case(by="clerk_450103", org="450103", window="legal_aid")
    make_case(window="legal_aid")
    counts = {
        window.code: window.case_count
        for window in login("admin_450102").get("/admin/services/window/").context["cl"].result_list
    }
    assert (counts["legal_aid"], counts["petition"]) == (1, 0)
    listed = login("admin_450000").get("/admin/services/window/").context["cl"]
    by_count = {"o": f"-{listed.list_display.index('case_count')}"}
    response = login("admin_450000").get("/admin/services/window/", by_count)
    assert response.context["cl"].result_list[0].case_count == 2  # ordered by the count


def test_cases_are_read_only_in_the_admin_and_scoped(login, make_case):
    case = make_case()
    client = login("supervisor_450102")
    assert client.get(f"/admin/services/case/{case.pk}/change/").status_code == 200
    client.post(f"/admin/services/case/{case.pk}/change/", {"matter": "改动"})
    assert Case.objects.get(pk=case.pk).matter == "咨询"
    assert client.get(f"/admin/services/case/{case.pk}/history/").status_code == 200
    version = case.history.first().history_id
    history_form = f"/admin/services/case/{case.pk}/history/{version}/"
    assert client.get(history_form).status_code == 200
    assert client.post(history_form, {"matter": "回滚"}).status_code == 403

    other = login("supervisor_450103")
    assert other.get(f"/admin/services/case/{case.pk}/change/").status_code == 404
    assert other.get(f"/admin/services/case/{case.pk}/history/").status_code == 404
    assert other.get(history_form).status_code == 404
    assert other.get("/admin/services/case/").context["cl"].result_count == 0
