"""The leads CSV export: content, encodings, formula escaping, filters, who may export."""

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from leads.models import Contact
from scoring.models import DefinitionVersion, LeadScore
from tests.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db

URL = reverse("portal:lead-export")


def download(client, **params) -> bytes:
    response = client.get(URL, params)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    return b"".join(response.streaming_content)


def rows(body: bytes, encoding: str = "utf-8-sig") -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode(encoding), newline="")))


@pytest.fixture
def taro():
    company = CompanyFactory(
        name="株式会社サンプル", prefecture="13", industry="G", employee_count=1200
    )
    return ContactFactory(
        company=company,
        name="山田 太郎",
        name_kana="ヤマダ タロウ",
        email="taro@sample.co.jp",
        title="部長",
        department="営業部",
        phone="03-1234-5678",
        last_activity_at=dt.datetime(2025, 4, 1, 0, 30, tzinfo=dt.UTC),
    )


def test_export_is_utf8_with_bom_and_crlf(client, marketing_user, taro):
    client.force_login(marketing_user)
    body = download(client)
    assert body.startswith(b"\xef\xbb\xbf")
    assert body.count(b"\r\n") == 2 and b"\n" not in body.replace(b"\r\n", b"")
    header, row = rows(body)
    assert len(header) == len(row) == 19
    assert row[:7] == [
        "山田 太郎",
        "ヤマダ タロウ",
        "taro@sample.co.jp",
        "株式会社サンプル",
        "部長",
        "営業部",
        "03-1234-5678",
    ]
    assert row[7] in {"東京都", "Tokyo", "東京"}  # the prefecture's label in the user's language
    assert row[10] == "1200"
    assert row[11:17] == ["", "", "", "", "", ""]  # not scored yet
    assert row[-1] == "2025-04-01 09:30"  # the user's zone, Asia/Tokyo


def test_export_carries_the_scores_the_list_shows(client, marketing_user, taro):
    version = DefinitionVersion.objects.get(status="active")
    now = timezone.now()
    LeadScore.objects.create(
        contact=taro, version=version, total=72.5, fit=25, engagement=47.5, band="hot",
        scored_at=now,
    )  # fmt: skip
    LeadScore.objects.create(
        company=taro.company, version=version, total=18, fit=15, engagement=3, band="cold",
        scored_at=now,
    )  # fmt: skip
    client.force_login(marketing_user)
    client.cookies["django_language"] = "en"
    header, row = rows(download(client))
    by_name = dict(zip(header, row, strict=True))
    assert by_name["Score"] == "72.5" and by_name["Band"] == "Hot (MQL)"
    assert (by_name["Fit"], by_name["Engagement"]) == ("25.0", "47.5")
    assert by_name["Definition version"] == f"v{version.number}"
    assert by_name["Company account score"] == "18.0"


def test_export_header_follows_the_users_language(client, marketing_user, taro):
    client.force_login(marketing_user)
    client.cookies["django_language"] = "en"
    header = rows(download(client))[0]
    assert header[:3] == ["Name", "Name (kana)", "E-mail"]
    assert header[-1] == "Last activity"


def test_last_activity_is_in_the_users_time_zone(client, marketing_user, taro):
    marketing_user.time_zone = "America/New_York"
    marketing_user.save()
    client.force_login(marketing_user)
    assert rows(download(client))[1][-1] == "2025-03-31 20:30"


def test_export_in_cp932_for_older_excel(client, marketing_user, taro):
    taro.name = "髙橋 🙂"
    taro.save()
    client.force_login(marketing_user)
    response = client.get(URL, {"encoding": "cp932"})
    assert "shift_jis" in response["Content-Type"]
    body = b"".join(response.streaming_content)
    assert not body.startswith(b"\xef\xbb\xbf")
    assert rows(body, "cp932")[1][:4] == [
        "髙橋 ?",
        "ヤマダ タロウ",
        "taro@sample.co.jp",
        "株式会社サンプル",
    ]


def test_export_neutralises_formulas(client, marketing_user):
    company = CompanyFactory(name='=HYPERLINK("http://evil")', employee_count=5)
    ContactFactory(
        company=company, email="x@evil.example.jp", name="＝1+1", title="+81", department="@SUM(A1)"
    )
    client.force_login(marketing_user)
    row = rows(download(client))[1]
    assert row[0] == "'＝1+1"
    assert row[3] == '\'=HYPERLINK("http://evil")'
    assert row[4] == "'+81" and row[5] == "'@SUM(A1)"
    assert row[10] == "5"


def test_export_honours_the_leads_list_filters(client, manager_user, taro):
    osaka = CompanyFactory(name="株式会社ナニワ", prefecture="27")
    ContactFactory(company=osaka, email="hanako@naniwa.co.jp")
    client.force_login(manager_user)
    emails = [r[2] for r in rows(download(client, prefecture="27", encoding="utf-8"))[1:]]
    assert emails == ["hanako@naniwa.co.jp"]
    assert len(rows(download(client))) == 3


def test_export_follows_score_filters_and_sort(client, manager_user):
    version = DefinitionVersion.objects.get(status="active")
    for n, (total, fit, band) in enumerate([(90, 20, "hot"), (80, 0, "warm"), (10, 5, "cold")]):
        LeadScore.objects.create(
            contact=ContactFactory(email=f"l{n}@x.example.jp"), version=version, total=total,
            fit=fit, engagement=total - fit, band=band, scored_at=timezone.now(),
        )  # fmt: skip
    client.force_login(manager_user)
    emails = [r[2] for r in rows(download(client, sort="-fit"))[1:]]
    assert emails == ["l0@x.example.jp", "l2@x.example.jp", "l1@x.example.jp"]
    held = [r[2] for r in rows(download(client, held_back="true"))[1:]]
    assert held == ["l1@x.example.jp"]  # past "hot" (60), fit 0 under the floor (10)
    assert [r[2] for r in rows(download(client, min_engagement="50"))[1:]] == [
        "l1@x.example.jp",
        "l0@x.example.jp",
    ]


def test_export_runs_one_query_whatever_the_number_of_rows(
    client, marketing_user, django_assert_max_num_queries
):
    ContactFactory.create_batch(30)
    client.force_login(marketing_user)
    response = client.get(URL)
    with django_assert_max_num_queries(2):
        body = b"".join(response.streaming_content)
    assert len(rows(body)) == 31
    assert Contact.objects.count() == 30


@pytest.mark.parametrize("role", [Role.INSIDE_SALES, Role.SALES])
def test_inside_sales_and_sales_cannot_export(client, role_users, role):
    client.force_login(role_users[role])
    assert client.get(URL).status_code == 403


@pytest.mark.parametrize("role", [Role.MARKETING, Role.SALES_MANAGER, Role.ADMIN])
def test_marketing_managers_and_admins_can_export(client, role_users, role):
    client.force_login(role_users[role])
    assert client.get(URL).status_code == 200


def test_anonymous_visitor_is_sent_to_login_from_the_export(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_an_invalid_filter_exports_nothing_and_says_why(client, marketing_user, taro):
    client.force_login(marketing_user)
    response = client.get(URL, {"min_score": "abc", "prefecture": "99"})
    assert response.status_code == 400
    assert "min_score" in response.content.decode() and "prefecture" in response.content.decode()
