"""Refusals and missing records answer with a page of the product, in the user's language, that
says why when the refusal has a reason and leads back to "my work"."""

from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from django.views.defaults import server_error


def test_a_refusal_is_a_page_of_the_product_with_its_reason(login, orgs):
    finance = login("finance_450102")
    page = finance.get(reverse("reports:roster"))
    assert page.status_code == 403
    text = page.content.decode()
    assert "没有权限" in text and "请联系本单位的系统管理员" in text
    assert 'class="site-header"' in text and reverse("home") in text
    viewer = login("viewer_450100")
    query = {"org": "450102", "on": timezone.localdate().isoformat(), "format": "xlsx"}
    page = viewer.get(reverse("reports:roster"), {**query, "full_numbers": "on"})
    assert page.status_code == 403
    assert "您的角色不能导出完整的身份证号和银行账号。" in page.content.decode()
    english = login("finance_450102")
    english.cookies["django_language"] = "en"
    assert "Access denied" in english.get(reverse("reports:roster")).content.decode()


def test_a_record_out_of_reach_is_a_page_of_the_product(login, orgs):
    page = login("clerk_450103").get("/households/999999/")
    assert page.status_code == 404
    assert "页面不存在" in page.content.decode() and "不在您的管辖范围内" in page.content.decode()


def test_the_server_error_page_needs_no_request_context():
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500 and "系统出错" in response.content.decode()
