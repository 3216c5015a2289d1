"""The QR code at every window (R3.1): the receipt's verification code, the printable sign, the mobile page."""

from __future__ import annotations

import io
import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pypdf
import pytest
import segno
import time_machine
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from haochaping.accounts.models import User
from haochaping.accounts.roles import Role
from haochaping.evaluation import services, verification
from haochaping.evaluation.models import Evaluation
from haochaping.evaluation.views import qr
from haochaping.org.models import Window
from haochaping.records import verification as record_verification
from tests import factories
from tests.pdf_fonts import assert_fonts_embedded

pytestmark = pytest.mark.django_db

WRONG = "办件编号或验证码不正确，请核对办件回执后重新输入"


@pytest.fixture(autouse=True)
def _clear_cache():
    # Failure counters live in the cache, which outlives a test's database.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def record(org, item):
    return factories.make_record(org, item)


@pytest.fixture
def window_url(org):
    return f"/q/w/{verification.window_token(org.window.pk)}/"


def identify(client, url, project_no, code, **extra):
    return client.post(url, {"project_no": project_no, "code": code}, **extra)


def form_token(response) -> str:
    return re.search(r'name="form_token" value="([^"]+)"', response.content.decode()).group(1)


# --- verification code and tokens (pure) ---------------------------------------------------------------------


def test_verification_code_is_six_digits_stable_and_differs_between_records():
    codes = {record_verification.verification_code(f"P{n:010d}") for n in range(200)}
    assert all(re.fullmatch(r"\d{6}", c) for c in codes)
    assert record_verification.verification_code("P0000000001") == record_verification.verification_code("P0000000001")
    assert len(codes) > 190  # 200 records, a million codes: collisions are rare


def test_code_matches_accepts_what_people_type_and_nothing_else():
    code = record_verification.verification_code("P0000000042")
    assert record_verification.code_matches("P0000000042", code)
    assert record_verification.code_matches("P0000000042", f" {code[:3]} {code[3:]} ")
    full_width = code.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert record_verification.code_matches("P0000000042", full_width)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    assert not record_verification.code_matches("P0000000042", wrong)
    assert not record_verification.code_matches("P0000000043", code) or record_verification.verification_code("P0000000043") == code
    assert not record_verification.code_matches("P0000000042", code[:5])
    assert not record_verification.code_matches("P0000000042", "")


def test_window_token_round_trips_and_a_bare_or_forged_id_is_refused():
    token = verification.window_token(17)
    assert verification.read_window_token(token) == 17
    assert verification.read_window_token("17") is None
    assert verification.read_window_token(verification.window_token(18)[:-2] + "xx") is None
    # A 办件 link is no window token, and the other way round.
    assert verification.read_window_token(verification.record_token("P1")) is None
    assert verification.read_record_token(token) is None
    assert verification.read_record_token(verification.record_token("P1")) == "P1"


def test_record_api_gives_the_verification_code_to_print(record):
    _key, secret = factories.make_api_key()
    response = Client().get(f"/api/v1/records/{record.project_no}", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200
    assert response.json()["verification_code"] == record_verification.verification_code(record.project_no)


# --- the sign --------------------------------------------------------------------------------------------------


@pytest.fixture
def supervisor(org):
    return User.objects.create(username="sup-lixia", role=Role.SUPERVISOR, region=org.county, is_staff=True)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def svg_modules(svg: str) -> set[tuple[int, int]]:
    path = re.search(r'<g class="qr"[^>]*><path d="([^"]+)"', svg).group(1)
    return {(int(x), int(y)) for x, y in re.findall(r"M(\d+),(\d+)h1v1h-1z", path)}


def test_sign_svg_has_the_names_and_a_qr_code_of_the_window_page(org, supervisor):
    response = signed_in(supervisor).get(f"/q/sign/{org.window.pk}.svg")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    svg = response.content.decode()
    assert org.window.name in svg and org.agency.name in svg
    assert "请用手机扫描二维码" in svg
    url = f"http://testserver/q/w/{verification.window_token(org.window.pk)}/"
    expected = {(x, y) for y, row in enumerate(segno.make(url, error="m").matrix) for x, dark in enumerate(row) if dark}
    assert svg_modules(svg) == expected
    assert f"/q/w/{org.window.pk}/" not in svg


def test_sign_pdf_opens_and_names_window_and_agency(org, supervisor):
    response = signed_in(supervisor).get(f"/q/sign/{org.window.pk}.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert org.window.name in text and org.agency.name in text
    assert "政务服务“好差评”" in text
    assert_fonts_embedded(response.content)


def test_sign_is_404_out_of_scope_and_needs_a_sign_in(org):
    other = User.objects.create(username="sup-shizhong", role=Role.SUPERVISOR, region=org.other_county, is_staff=True)
    assert signed_in(other).get(f"/q/sign/{org.window.pk}.svg").status_code == 404
    assert signed_in(other).get(f"/q/sign/{org.window.pk}.pdf").status_code == 404
    anonymous = Client().get(f"/q/sign/{org.window.pk}.svg")
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    evaluator = User.objects.create(username="citizen", role=Role.EVALUATOR)
    assert signed_in(evaluator).get(f"/q/sign/{org.window.pk}.svg").status_code == 403


# --- the evaluator's page --------------------------------------------------------------------------------------


def test_code_entry_then_rating_then_thank_you(record, window_url):
    client = Client()
    page = client.get(window_url)
    assert page.status_code == 200
    assert "办件编号" in page.content.decode() and "验证码" in page.content.decode()

    step = identify(client, window_url, record.project_no.lower(), record_verification.verification_code(record.project_no))
    assert step.status_code == 302
    assert record.project_no not in step["Location"]
    rate_page = client.get(step["Location"])
    assert rate_page.status_code == 200
    assert "非常满意" in rate_page.content.decode()

    done = client.post(step["Location"], {"form_token": form_token(rate_page), "level": "5"})
    assert done.status_code == 200
    ev = Evaluation.objects.get(record=record)
    assert (ev.channel, ev.stage, ev.level, ev.type) == ("qr", "complete", 5, "active")
    assert ev.receipt_code in done.content.decode()
    assert "感谢您的评价" in done.content.decode()
    # The verification is spent: the rating page now asks for the code again.
    assert client.get(step["Location"])["Location"] == window_url


def test_an_unfinished_record_is_rated_for_its_accept_stage(org, item, window_url):
    open_record = factories.make_record(org, item, completed=False)
    client = Client()
    step = identify(client, window_url, open_record.project_no, record_verification.verification_code(open_record.project_no))
    rate_page = client.get(step["Location"])
    client.post(step["Location"], {"form_token": form_token(rate_page), "level": "4"})
    assert Evaluation.objects.get(record=open_record).stage == "accept"


def test_wrong_code_and_unknown_number_get_the_same_message_and_write_nothing(record, window_url, caplog):
    client = Client()
    code = record_verification.verification_code(record.project_no)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    bad_code = identify(client, window_url, record.project_no, wrong)
    unknown = identify(client, window_url, "P9999999999", code)
    for response in (bad_code, unknown):
        assert response.status_code == 422
        assert WRONG in response.content.decode()
    assert Evaluation.objects.count() == 0
    assert client.get(f"{window_url}rate/")["Location"] == window_url
    logged = caplog.text
    assert "qr verification failed" in logged
    assert record.project_no not in logged and wrong not in logged and code not in logged


def test_missing_fields_are_named(window_url, db):
    response = identify(Client(), window_url, "", "")
    assert response.status_code == 422
    assert "请填写办件编号" in response.content.decode() and "请填写验证码" in response.content.decode()


def test_another_windows_record_is_refused_like_a_wrong_code(org, item, record):
    other_window = Window.objects.create(agency=org.agency, code="A02", name="综合受理2号窗口", department=org.department)
    response = identify(Client(), f"/q/w/{verification.window_token(other_window.pk)}/",
                        record.project_no, record_verification.verification_code(record.project_no))
    assert response.status_code == 422
    assert WRONG in response.content.decode()


def test_an_address_is_blocked_only_after_many_failures_as_a_halls_wifi_is_shared(org, record, window_url):
    client = Client()  # every visitor behind the hall's Wi-Fi comes from this one address
    for n in range(qr.MAX_FAILURES_PER_RECORD):  # one visitor's typing mistakes, each on another 办件
        assert identify(client, window_url, f"P99999999{n:02d}", "000000").status_code == 422
    # The next visitor on the same Wi-Fi still gets in with the right code.
    other = factories.make_record(org, record.item)
    assert identify(client, window_url, other.project_no,
                    record_verification.verification_code(other.project_no)).status_code == 302
    for n in range(qr.MAX_FAILURES_PER_RECORD, qr.MAX_FAILURES_PER_ADDRESS - 1):
        assert identify(client, window_url, f"P99999999{n:02d}", "000000").status_code == 422
    last = identify(client, window_url, "P9999999999", "000000")
    assert last.status_code == 429
    blocked = identify(client, window_url, record.project_no, record_verification.verification_code(record.project_no))
    assert blocked.status_code == 429
    assert "输错次数过多" in blocked.content.decode()
    assert blocked["Retry-After"] == str(15 * 60)
    # Another address is not blocked for another 办件.
    another = factories.make_record(org, record.item)
    fine = identify(Client(REMOTE_ADDR="10.0.0.9"), window_url, another.project_no,
                    record_verification.verification_code(another.project_no))
    assert fine.status_code == 302


def test_five_failures_on_one_record_block_it_from_every_address(record, window_url):
    code = record_verification.verification_code(record.project_no)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for n in range(5):
        identify(Client(REMOTE_ADDR=f"10.0.1.{n}"), window_url, record.project_no, wrong)
    response = identify(Client(REMOTE_ADDR="10.0.2.1"), window_url, record.project_no, code)
    assert response.status_code == 429
    assert Evaluation.objects.count() == 0


def test_a_forged_window_token_is_a_chinese_not_found(org):
    for token in (str(org.window.pk), verification.window_token(org.window.pk)[:-3] + "abc"):
        response = Client().get(f"/q/w/{token}/")
        assert response.status_code == 404
        assert "二维码无效" in response.content.decode()


def test_signed_link_rates_without_the_code(record):
    client = Client()
    url = f"/q/r/{verification.record_token(record.project_no)}/"
    page = client.get(url)
    assert page.status_code == 200
    done = client.post(url, {"form_token": form_token(page), "level": "2", "labels": [], "comment": "等了很久"})
    assert done.status_code == 200  # a bad level first asks for reasons
    # The comment is required when no reason fits: the field says so, not "选填" beside "至少选择一项或填写意见".
    assert "具体情况（没有合适的选项时必填）" in done.content.decode() and "选填" not in done.content.decode()
    done = client.post(url, {"form_token": form_token(page), "level": "2", "confirm": "1", "comment": "等了很久"})
    ev = Evaluation.objects.get(record=record)
    assert (ev.channel, ev.level, ev.comment) == ("qr", 2, "等了很久")
    assert ev.receipt_code in done.content.decode()


def test_forged_signed_link_is_refused(record):
    response = Client().get(f"/q/r/{verification.record_token(record.project_no)[:-2]}zz/")
    assert response.status_code == 404
    assert "评价链接无效" in response.content.decode()


def test_second_evaluation_is_refused_in_chinese(record):
    url = f"/q/r/{verification.record_token(record.project_no)}/"
    first, second = Client(), Client()
    page_1, page_2 = first.get(url), second.get(url)
    first.post(url, {"form_token": form_token(page_1), "level": "5"})
    late = second.post(url, {"form_token": form_token(page_2), "level": "4"})
    assert late.status_code == 409
    assert "该办件的这一环节已评价过" in late.content.decode()
    again = Client().get(url)
    assert again.status_code == 409
    assert "该办件已评价" in again.content.decode()
    assert Evaluation.objects.filter(record=record).count() == 1
    # Whoever proves the 办件 again (a reload of the thank-you page, a lost code) gets the receipt code back.
    assert Evaluation.objects.get(record=record).receipt_code in again.content.decode()


def test_a_reload_after_rating_at_the_window_finds_the_receipt_code_again(record, window_url):
    client = Client()
    code = record_verification.verification_code(record.project_no)
    identify(client, window_url, record.project_no, code)
    page = client.get(f"{window_url}rate/")
    done = client.post(f"{window_url}rate/", {"form_token": form_token(page), "level": "5"})
    receipt = Evaluation.objects.get(record=record).receipt_code
    assert receipt in done.content.decode() and 'href="/"' in done.content.decode()  # 返回首页
    # The Back button and 提交 again: the form names its 办件, which is said to be rated, with the receipt code.
    again = client.post(f"{window_url}rate/", {"form_token": form_token(page), "level": "4"})
    assert again.status_code == 409 and "该办件已评价" in again.content.decode() and receipt in again.content.decode()
    assert Evaluation.objects.get(record=record).level == 5
    # The reload lands on the code step (one verification, one evaluation); the same number and code show the receipt.
    assert client.get(f"{window_url}rate/")["Location"] == window_url
    identify(client, window_url, record.project_no, code)
    again = client.get(f"{window_url}rate/")
    assert again.status_code == 409 and receipt in again.content.decode()


def _closed_text(day) -> str:
    return f"该环节的评价期限已于{day.year}年{day.month}月{day.day}日结束"


def test_a_record_past_its_period_is_told_so_before_any_level_is_chosen(org, item, window_url):
    old = factories.make_record(org, item, accepted_at=timezone.now() - timedelta(days=60))
    last = services.last_rating_day(old, "complete")  # the product's own calendar rule, not the clock's
    client = Client()
    assert identify(client, window_url, old.project_no,
                    record_verification.verification_code(old.project_no)).status_code == 302
    page = client.get(f"{window_url}rate/")
    html = page.content.decode()
    assert page.status_code == 409
    assert "不能评价" in html and _closed_text(last) in html and "12345" in html
    assert 'name="level"' not in html and 'name="form_token"' not in html  # nothing to fill in and lose
    assert Evaluation.objects.count() == 0


def test_a_period_that_ends_while_the_page_is_open_leaves_no_level_buttons_to_try_again(record):
    url = f"/q/r/{verification.record_token(record.project_no)}/"
    last = services.last_rating_day(record, "complete")
    client = Client()
    with time_machine.travel(datetime.combine(last, time(23, 30), tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        page = client.get(url)
        assert page.status_code == 200 and 'name="level"' in page.content.decode()
    with time_machine.travel(datetime.combine(last + timedelta(days=1), time(0, 30), tzinfo=ZoneInfo("Asia/Shanghai")),
                             tick=False):
        late = client.post(url, {"form_token": form_token(page), "level": "5"})
    html = late.content.decode()
    assert late.status_code == 422
    assert _closed_text(last) in html and "不能评价" in html and 'name="level"' not in html
    assert Evaluation.objects.count() == 0


def test_an_oversized_comment_is_refused_on_the_page_and_nothing_is_written(record):
    # The textarea's maxlength is only a hint: a crafted or old browser can send more.
    client = Client()
    url = f"/q/r/{verification.record_token(record.project_no)}/"
    page = client.get(url)
    too_long = client.post(url, {"form_token": form_token(page), "level": "2", "confirm": "1", "comment": "慢" * 1001})
    body = too_long.content.decode()
    assert too_long.status_code == 422
    assert "文字评价不能超过1000字" in body and 'id="comment-error"' in body
    assert not Evaluation.objects.filter(record=record).exists()


def test_the_thank_you_page_of_a_bad_review_says_who_handles_it_by_when_and_where_to_follow_it(record, org):
    """The evaluator may never come back: the page they see right after a 差评 names the responsible unit and the
    callback deadline of the case just opened, and where to follow it with the receipt code."""
    from haochaping.rectification.models import RectificationCase

    client = Client()
    url = f"/q/r/{verification.record_token(record.project_no)}/"
    page = client.get(url)
    done = client.post(url, {"form_token": form_token(page), "level": "1", "confirm": "1", "comment": "材料被退回三次"})
    html = done.content.decode()
    case = RectificationCase.objects.get(evaluation__record=record)
    due = case.callback_due
    assert "差评已转交办理单位核实处理" in html
    assert f"责任单位：{case.department.name}；回访核实期限：{due.year}年{due.month}月{due.day}日" in html
    assert 'href="/r/"' in html and "办理进展" in html

    good = factories.make_record(org, record.item)
    good_url = f"/q/r/{verification.record_token(good.project_no)}/"
    page = client.get(good_url)
    thanks = client.post(good_url, {"form_token": form_token(page), "level": "5"}).content.decode()
    assert "感谢您的评价" in thanks and "差评已转交" not in thanks and "办理进展" not in thanks
