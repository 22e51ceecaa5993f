"""The public notice sheet (公示单): masked people, real Chinese text in embedded CJK fonts,
nothing fetched from the network or the filesystem, and fast enough to print on demand."""

import subprocess
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from households import services
from households.models import Category, Cause, FilingPeriod, Household
from households.notice_pdf import masked_id, render_notice_pdf
from orgs.pdf import pdf_subsetter
from orgs.pii import mask
from tests.conftest import on_day

from .conftest import new_id


def pdftotext(pdf: bytes) -> str:
    result = subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", "-", "-"],  # noqa: S607 - poppler-utils
        input=pdf,
        capture_output=True,
        check=True,
    )
    return result.stdout.decode()


def pdffonts(pdf: bytes) -> list[list[str]]:
    result = subprocess.run(
        ["pdffonts", "-"],  # noqa: S607 - poppler-utils
        input=pdf,
        capture_output=True,
        check=True,
    )
    return [line.split() for line in result.stdout.decode().splitlines()[2:]]


@pytest.fixture
def notice(make_household, walk, users):
    """One notice, posted 30 days ago, with two households."""
    deep = Category.objects.get(code="deep")
    first = walk(
        make_household(worker_name="张小明", category=deep, id_number=new_id(1975)),
        "reviewed",
    )
    second = walk(make_household(worker_name="欧阳建国", id_number=new_id(1988)), "reviewed")
    posted = timezone.localdate() - timedelta(days=30)
    with on_day(posted):
        return services.notice_start(
            user=users["clerk_450102"],
            organisation=first.organisation,
            households=[first, second],
            starts_on=posted,
            objection_contact="兴宁区总工会帮扶中心（民生路1号）0771-12351",
        )


def test_notice_sheet_shows_masked_people_the_period_and_where_to_object(notice):
    first, second = Household.objects.order_by("file_number")
    text = pdftotext(render_notice_pdf(notice))

    assert "兴宁区总工会困难职工建档公示" in text
    assert "兴宁区总工会" in text
    assert f"{notice.starts_on:%Y}年{notice.starts_on.month}月{notice.starts_on.day}日" in text
    assert f"{notice.ends_on:%Y}年{notice.ends_on.month}月{notice.ends_on.day}日" in text
    assert "0771-12351" in text
    assert "第 1 页，共 1 页" in text
    # Masked as the issue asks: 张*明, 4501**********1234.
    assert "张*明" in text
    assert "欧**国" in text
    for household in (first, second):
        expected = household.id_number[:4] + "*" * 10 + household.id_number[-4:]
        assert mask(household.id_number, head=4, tail=4) == expected
        assert expected in text
        assert household.id_number not in text
        assert household.id_number[:6] + "*" not in text  # not even the 6-digit masked copy
    assert "张小明" not in text
    assert "欧阳建国" not in text
    assert "深度困难" in text  # category
    assert "因病" in text  # primary cause


def test_full_identifiers_are_not_in_the_pdf_bytes_at_all(notice):
    pdf = render_notice_pdf(notice)
    for household in Household.objects.all():
        assert household.id_number.encode() not in pdf
        assert household.worker_name.encode() not in pdf
        assert household.worker_name.encode("utf-16-be") not in pdf


def test_masked_id_from_the_stored_copy_equals_masking_the_number():
    number = new_id()
    assert masked_id(mask(number)) == mask(number, head=4, tail=4)


def test_notice_sheet_embeds_the_noto_sans_cjk_font(notice):
    fonts = pdffonts(render_notice_pdf(notice))
    assert fonts, "no fonts in the PDF"
    for columns in fonts:
        name = columns[0]
        assert "Noto-Sans-CJK-SC" in name, name
        # name, type…, encoding, emb, sub, uni, object ID: emb/sub/uni are the 3 before "N 0".
        emb, sub, uni = columns[-5], columns[-4], columns[-3]
        assert (emb, sub, uni) == ("yes", "yes", "yes"), columns


def test_notice_sheet_is_fast(notice):
    assert pdf_subsetter() == "harfbuzz"  # libharfbuzz-subset0; fontTools takes 10-20 s
    render_notice_pdf(notice)  # warm up fontconfig
    started = time.perf_counter()
    pdf = render_notice_pdf(notice)
    elapsed = time.perf_counter() - started
    assert pdf.startswith(b"%PDF-")
    assert elapsed < 2.0, f"{elapsed:.2f} s"
    assert len(pdf) < 2_000_000  # subset fonts, not the 20 MB font file


def test_notice_text_is_autoescaped(notice):
    notice.title = '<img src="file:///etc/passwd">公示'
    notice.objection_contact = "<b>民生路</b>"
    text = pdftotext(render_notice_pdf(notice))
    assert '<img src="file:///etc/passwd">公示' in text
    assert "<b>民生路</b>" in text


def test_the_clerk_prints_the_notice_from_the_file_page(notice, login):
    """The clerk who posts a notice has no admin site: the file page links the sheet."""
    from orgs.models import AccessLog

    household = Household.objects.get(worker_name="张小明")
    client = login("clerk_450102")
    page = client.get(f"/households/{household.pk}/").content.decode()
    url = f"/households/notices/{notice.pk}/notice.pdf"
    assert url in page
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "张*明" in pdftotext(response.content)
    log = AccessLog.objects.get(action="print")
    assert (log.user.username, log.target) == (
        "clerk_450102",
        f"households.PublicNotice:{notice.pk}",
    )
    assert login("clerk_450103").get(url).status_code == 404
    assert login("finance_450102").get(url).status_code == 403


def test_before_approval_the_notice_posts_the_proposed_category(make_household, walk, users):
    """A file posted without a category of its own shows the one its assessment proposes (the
    one approval gives it), not "—"; "—" only for a file the assessment gives none."""
    relative = walk(make_household(worker_name="韦建华", worker_income="2400.00"), "reviewed")
    refused = walk(make_household(worker_name="黄秀英", worker_income="10000.00"), "reviewed")
    assert relative.category is None and refused.category is None
    notice = services.notice_start(
        user=users["clerk_450102"],
        organisation=relative.organisation,
        households=[relative, refused],
        starts_on=timezone.localdate(),
        objection_contact="兴宁区总工会 0771-12351",
    )
    lines = pdftotext(render_notice_pdf(notice)).splitlines()
    (relative_line,) = [line for line in lines if "韦*华" in line]
    (refused_line,) = [line for line in lines if "黄*英" in line]
    assert "相对困难" in relative_line  # 1,200 yuan a head, under twice the line, with illness
    assert "—" in refused_line
    assert not any(name in refused_line for name in Category.objects.values_list("name", flat=True))


def test_the_notice_reads_a_fixed_number_of_queries_however_many_files(make_household, orgs):
    """A notice holds tens to a few hundred files: the proposed categories of those without
    one are assessed together (members, causes, organisations and dibao lines read once for
    all), not with half a dozen queries per file."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from households.models import DibaoStandard, PublicNotice
    from households.notice_pdf import notice_rows
    from orgs.models import User

    year = timezone.localdate().year
    DibaoStandard.objects.create(organisation=orgs["450102"], year=year, monthly_amount=1200)
    deep, schooling = Category.objects.get(code="deep"), Cause.objects.get(code="schooling")
    clerk = User.objects.get(username="clerk_450102")

    def notice_of(count: int) -> PublicNotice:
        files = []
        for index in range(count):
            household = make_household(
                org="450102001" if index % 3 else "450102",
                worker_income=str(1000 + 700 * (index % 5)),
                primary="low_income",
                category=deep if index % 7 == 0 else None,
                id_number=new_id(1960 + index % 30),
            )
            if index % 2:
                household.secondary_causes.add(schooling)
            files.append(household)
        notice = PublicNotice.objects.create(
            organisation=orgs["450102"],
            title="公示",
            starts_on=timezone.localdate(),
            ends_on=timezone.localdate() + timedelta(days=7),
            objection_contact="0771-12351",
            created_by=clerk,
        )
        FilingPeriod.objects.filter(household__in=files).update(notice=notice)
        return notice

    small, large = notice_of(3), notice_of(30)
    with CaptureQueriesContext(connection) as few:
        notice_rows(small)
    with CaptureQueriesContext(connection) as many:
        rows = notice_rows(large)
    assert len(many) == len(few) == 7  # files, categories, members, causes, 2 orgs, lines
    names = dict(Category.objects.values_list("code", "name"))
    households = Household.objects.filter(periods__notice=large).order_by("file_number")
    expected = [
        h.category.name
        if h.category
        else names.get(services.verdict_for(h, large.starts_on).category_code, "")
        for h in households
    ]
    assert [row["category"] for row in rows] == expected
    assert {"深度困难", "相对困难", ""} <= set(expected)  # each kind is among them


def test_a_county_file_posted_by_the_city_links_no_sheet_the_county_cannot_open(
    make_household, walk, users, orgs, login
):
    """A city's notice is the city's record (it may post several counties' files): the county's
    clerk opens it nowhere, so the county file's page names its period without a link that
    answers 404."""
    from orgs.models import User

    city_clerk = User.objects.create(username="clerk_450100", organisation=orgs["450100"])
    city_clerk.groups.add(*users["clerk_450102"].groups.all())
    users[city_clerk.username] = city_clerk
    household = walk(make_household(), "reviewed")
    notice = services.notice_start(
        user=city_clerk,
        organisation=orgs["450100"],
        households=[household],
        starts_on=timezone.localdate(),
        objection_contact="南宁市总工会 0771-12351",
    )
    url = f"/households/notices/{notice.pk}/notice.pdf"
    county = login("clerk_450102")
    page = county.get(f"/households/{household.pk}/").content.decode()
    assert notice.title in page
    assert county.get(url).status_code == 404
    assert url not in page
    city = login("clerk_450100")
    assert url in city.get(f"/households/{household.pk}/").content.decode()
    assert city.get(url).status_code == 200
