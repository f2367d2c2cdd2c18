"""seed_demo: demo users, real companies from the datasets, behaviour, idempotence.

These tests read the real datasets under settings.DEMO_DATASETS_DIR and fail,
never skip, when they are missing: the demo is only worth something with them.
"""

from __future__ import annotations

import csv
import gzip
import warnings
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import F
from django.utils import timezone

from accounts.roles import Role, user_roles
from leads.models import Activity, Company, Contact, IntentSignal
from leads.normalize import clean_text
from portal.demo import (
    ATTRIBUTION,
    DEMO_DOMAIN_SUFFIX,
    INTENT_PROVIDER,
    SOURCE_PREFIX,
    datasets_missing,
    kana_to_romaji,
)
from tests.factories import ActivityFactory, CompanyFactory

pytestmark = pytest.mark.django_db

SMALL = ("--companies", "60", "--contacts", "120")
USERS = {
    "marketing": Role.MARKETING,
    "insidesales": Role.INSIDE_SALES,
    "sales": Role.SALES,
    "manager": Role.SALES_MANAGER,
    "admin": Role.ADMIN,
}


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    # PBKDF2 costs half a second a hash; the test is about which password, not how.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _development(settings):
    # The test runner turns DEBUG off; seed_demo refuses to run then (tested below).
    settings.DEBUG = True


def _datasets_dir() -> Path:
    directory = Path(settings.DEMO_DATASETS_DIR)
    missing = datasets_missing(directory)
    if missing:
        pytest.fail(
            f"demo datasets missing under DEMO_DATASETS_DIR={directory}: "
            + ", ".join(str(p) for p in missing)
        )
    return directory


def seed(*args: str) -> str:
    _datasets_dir()
    out = StringIO()
    call_command("seed_demo", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def counts() -> tuple[int, ...]:
    return (
        get_user_model().objects.count(),
        Company.objects.count(),
        Contact.objects.count(),
        Activity.objects.count(),
        IntentSignal.objects.count(),
    )


def test_seed_demo_creates_one_user_per_role_with_password_demo():
    seed(*SMALL)
    for username, role in USERS.items():
        user = get_user_model().objects.get(username=username)
        assert user.check_password("demo")
        assert user.groups.filter(name=role.value).exists()
        assert role.value in user_roles(user)
        assert user.last_name and user.first_name and not user.first_name.isascii()
        assert user.time_zone == "Asia/Tokyo"
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_staff and admin.is_superuser
    assert not get_user_model().objects.get(username="sales").is_staff


def test_admin_user_can_open_the_django_admin(client):
    seed(*SMALL)
    # Through the admin's own login form: client.login() gives axes no request.
    response = client.post("/admin/login/?next=/admin/", {"username": "admin", "password": "demo"})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_companies_carry_real_names_and_addresses_from_the_nta_file():
    seed(*SMALL)
    path = _datasets_dir() / "jp_nta_houjin_bangou" / "tottori_houjin_utf8.csv.gz"
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        nta = {row["corporate_number"]: row for row in csv.DictReader(handle)}
    tottori = Company.objects.exclude(corporate_number="")
    assert 30 <= tottori.count() <= 40  # 60% of 60
    for company in tottori:
        row = nta[company.corporate_number]
        assert company.name == clean_text(row["name"])
        assert company.name_kana == clean_text(row["furigana"])
        assert company.city == clean_text(row["city_name"])
        assert company.prefecture == "31" and company.region == "chugoku"
        assert company.postal_code == f"{row['post_code'][:3]}-{row['post_code'][3:]}"
        assert company.domain == f"c{company.corporate_number}{DEMO_DOMAIN_SUFFIX}"
        assert not row["close_date"] and row["kind"] in {"301", "302", "305"}


def test_nationwide_companies_come_from_japan_post_with_full_width_kana():
    seed(*SMALL)
    path = _datasets_dir() / "jp_post_zipcode" / "jigyosyo_utf8.csv.gz"
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        names = {clean_text(r["name"].replace("\u3000", "")) for r in csv.DictReader(handle)}
    nationwide = Company.objects.filter(corporate_number="")
    assert nationwide.count() >= 20
    assert nationwide.values("prefecture").distinct().count() >= 8
    for company in nationwide:
        assert company.name in names and "株式会社" in company.name
        assert company.domain.endswith(DEMO_DOMAIN_SUFFIX)
        # Japan Post kana is half-width; ours is NFKC (full-width) and without 株式会社.
        assert not any("\uff61" <= ch <= "\uff9f" for ch in company.name_kana)
        assert "カブシキ" not in company.name_kana


def test_generated_attributes_are_filled_and_consistent():
    seed(*SMALL)
    for company in Company.objects.all():
        assert company.industry and 5 <= company.employee_count <= 20_000
        assert company.revenue_band in Company.RevenueBand.values
    contacts = Contact.objects.select_related("company")
    assert contacts.count() == 120
    for contact in contacts:
        assert contact.email.endswith("@" + contact.company.domain)
        assert " " in contact.name and " " in contact.name_kana
        assert contact.job_level in Contact.JobLevel.values
        assert contact.phone.count("-") == 2 and len(contact.phone.replace("-", "")) == 10
    # Intent data names companies nobody has talked to yet.
    assert Company.objects.filter(contacts__isnull=True).exists()


def test_seed_demo_creates_behaviour_and_intent():
    seed(*SMALL)
    kinds = set(Activity.objects.values_list("kind", flat=True))
    assert {"page_view", "email_open", "webinar_registration"} <= kinds
    assert kinds & {"form_submission", "demo_request", "pricing_request"}
    assert Activity.objects.count() > 120 * 10
    assert set(Activity.objects.values_list("source", flat=True)) <= {
        "demo-ma",
        "demo-web",
        "demo-sfa",
    }
    # Anonymous visits identified by reverse IP, for companies without contacts.
    anonymous = Activity.objects.filter(contact__isnull=True)
    assert anonymous.exists()
    assert not anonymous.filter(company__contacts__isnull=False).exists()
    signals = IntentSignal.objects.all()
    assert signals.exists() and set(signals.values_list("provider", flat=True)) == {"demo-intent"}
    assert all(20 <= s <= 100 for s in signals.values_list("strength", flat=True))
    assert signals.filter(company__contacts__isnull=True).exists()


def test_every_contact_activity_has_the_contacts_company():
    seed(*SMALL)
    with_contact = Activity.objects.filter(contact__isnull=False)
    assert with_contact.exists()
    assert not with_contact.filter(company__isnull=True).exists()
    assert not with_contact.exclude(company_id=F("contact__company_id")).exists()


def test_timestamps_are_aware_and_within_the_window():
    now = timezone.now()
    with warnings.catch_warnings():
        # Django warns (RuntimeWarning) when a naive datetime reaches a DateTimeField.
        warnings.simplefilter("error", RuntimeWarning)
        seed(*SMALL)
    occurred = list(Activity.objects.values_list("occurred_at", flat=True))
    assert all(t.tzinfo is not None for t in occurred)
    assert min(occurred) >= now - timedelta(days=121) and max(occurred) <= timezone.now()
    observed = list(IntentSignal.objects.values_list("observed_at", flat=True))
    assert min(observed) >= now - timedelta(days=61) and max(observed) <= timezone.now()
    # last_activity_at is the newest activity, set after the insert.
    contact = Contact.objects.filter(activities__isnull=False).first()
    assert contact.last_activity_at == max(a.occurred_at for a in contact.activities.all())
    company = Company.objects.filter(activities__isnull=False).first()
    assert company.last_activity_at == max(a.occurred_at for a in company.activities.all())


def test_second_run_creates_nothing_new(django_assert_max_num_queries):
    seed(*SMALL)
    before = counts()
    with django_assert_max_num_queries(10):  # the marker check only
        out = seed(*SMALL)
    assert "already present" in out
    assert counts() == before


def test_interrupted_run_completes_without_duplicates():
    seed(*SMALL)
    before = counts()
    # As if the run had stopped after the contacts stage.
    Activity.objects.filter(source__startswith=SOURCE_PREFIX).delete()
    IntentSignal.objects.filter(provider=INTENT_PROVIDER).delete()
    seed(*SMALL)
    assert counts() == before


def test_seeding_is_set_based(django_assert_max_num_queries):
    # One query per row would be thousands; batches and stage queries are a few dozen,
    # and the score history a handful per replayed day, whatever the number of leads;
    # the earlier threshold review and its approval add a fixed few dozen.
    from django.utils import timezone

    from portal.demo.history import history_moments

    with django_assert_max_num_queries(180 + 12 * len(history_moments(timezone.now()))):
        seed(*SMALL)


def test_the_score_history_spreads_mql_moments_over_the_weeks_they_happened_in():
    import datetime as dt

    from django.utils import timezone

    from scoring.models import BandChange, MqlEvent

    seed("--companies", "200", "--contacts", "500")
    now = timezone.now()
    moments = list(MqlEvent.objects.values_list("became_hot_at", flat=True))
    assert moments, "the demo has MQLs"
    assert all(m < now for m in moments)
    weeks = {(now - m).days // 7 for m in moments}
    assert len(weeks) >= 4  # not one moment for all
    recent = sum(1 for m in moments if m >= now - dt.timedelta(days=7))
    assert 0 < recent < len(moments)
    assert BandChange.objects.filter(changed_at__lt=now - dt.timedelta(days=14)).exists()


def test_same_data_every_time_and_reset_keeps_other_rows():
    other = CompanyFactory(name="株式会社ほかのデータ")
    ActivityFactory(contact__company=other, source="ma-tool")
    seed(*SMALL)
    first = sorted(Contact.objects.exclude(company=other).values_list("email", "name", "title"))
    first_companies = sorted(Company.objects.exclude(pk=other.pk).values_list("domain", "name"))
    seed("--reset", *SMALL)
    assert sorted(Contact.objects.exclude(company=other).values_list("email", "name", "title")) == (
        first
    )
    assert sorted(Company.objects.exclude(pk=other.pk).values_list("domain", "name")) == (
        first_companies
    )
    assert Company.objects.filter(pk=other.pk).exists()
    assert Activity.objects.filter(source="ma-tool").count() == 1


def test_output_and_docs_carry_the_dataset_attribution():
    out = seed(*SMALL)
    docs = (Path(settings.BASE_DIR) / "docs" / "demo-data.md").read_text(encoding="utf-8")
    for line in ATTRIBUTION:
        assert line in out
        assert line in docs


def test_without_datasets_it_warns_and_seeds_a_synthetic_set(settings, tmp_path):
    settings.DEMO_DATASETS_DIR = tmp_path / "nowhere"
    err = StringIO()
    call_command(
        "seed_demo", "--companies", "20", "--contacts", "30", stdout=StringIO(), stderr=err
    )
    assert str(tmp_path / "nowhere") in err.getvalue()
    assert "DEMO_DATASETS_DIR" in err.getvalue()
    assert get_user_model().objects.filter(username__in=USERS).count() == 5
    assert Company.objects.count() == 20 and Contact.objects.count() == 30
    assert Activity.objects.exists() and IntentSignal.objects.exists()


def test_require_datasets_fails_naming_the_path(settings, tmp_path):
    settings.DEMO_DATASETS_DIR = tmp_path / "nowhere"
    with pytest.raises(CommandError, match="DEMO_DATASETS_DIR"):
        call_command("seed_demo", "--require-datasets", stdout=StringIO(), stderr=StringIO())
    assert not Company.objects.exists()


@pytest.mark.parametrize(
    ("kana", "romaji"),
    [
        ("サトウ", "sato"),
        ("ショウタ", "shota"),
        ("シュンスケ", "shunsuke"),
        ("ユウイチ", "yuichi"),
        ("チヒロ", "chihiro"),
        ("ハットリ", "hattori"),
        ("キョウコ", "kyoko"),
        ("マッチャ", "matcha"),
    ],
)
def test_kana_to_romaji_gives_passport_style_hepburn(kana, romaji):
    assert kana_to_romaji(kana) == romaji


def test_with_debug_off_it_refuses_and_creates_no_user(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="Refusing to seed demo data with DEBUG off"):
        call_command("seed_demo", stdout=StringIO(), stderr=StringIO())
    assert not get_user_model().objects.exists()


def test_with_debug_off_force_seeds_all_the_same(settings, tmp_path):
    settings.DEBUG = False
    settings.DEMO_DATASETS_DIR = tmp_path / "nowhere"  # the small synthetic set is enough
    call_command(
        "seed_demo", "--force", "--companies", "5", "--contacts", "5",
        stdout=StringIO(), stderr=StringIO(),
    )  # fmt: skip
    assert get_user_model().objects.filter(username="admin").exists()


def test_with_debug_off_demo_seed_force_in_the_environment_seeds_too(settings, tmp_path):
    settings.DEBUG = False
    settings.DEMO_SEED_FORCE = True
    settings.DEMO_DATASETS_DIR = tmp_path / "nowhere"
    call_command(
        "seed_demo", "--companies", "5", "--contacts", "5", stdout=StringIO(), stderr=StringIO()
    )
    assert get_user_model().objects.filter(username="admin").exists()


# Handoff takes MQLs in after scoring's transactions commit: a real commit is needed.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.usefixtures("migration_data")
def test_the_demo_shows_verdicts_with_reasons_and_deals_won_and_lost():
    from feedback.models import CycleFacts, Opportunity, Verdict
    from handoff.models import Cycle, Transition

    seed("--companies", "200", "--contacts", "500")
    verdicts = Verdict.objects.all()
    assert verdicts.filter(kind="mql", decision="accepted").exists()
    assert verdicts.filter(kind="mql", decision="rejected", reason__isnull=False).exists()
    assert verdicts.filter(kind="sql").exists()
    # Each rejection went through handoff's transitions, dated when it was decided.
    for verdict in verdicts.filter(decision="rejected")[:20]:
        step = Transition.objects.get(cycle=verdict.cycle, to_stage=verdict.disposition)
        assert step.at == verdict.at and step.reason_code.endswith(verdict.reason.code)
    assert {"won", "lost"} <= set(Opportunity.objects.values_list("status", flat=True))
    won = Opportunity.objects.filter(status="won").select_related("cycle").first()
    assert won.cycle.stage == "won" and won.amount > 0
    assert CycleFacts.objects.count() == Cycle.objects.count()
