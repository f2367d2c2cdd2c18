"""leads_import_csv: encodings, validation, matching, merging, atomicity, set-based writes."""

from pathlib import Path

import pytest
from django.conf import settings

from leads.models import Company, Contact
from leads.services.imports import ImportFileError, leads_import_csv
from tests.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def csv_bytes(*lines: str, encoding: str = "utf-8") -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


CONTACTS = (
    "会社名,氏名,メールアドレス,役職,従業員数,都道府県,業種",
    '株式会社サンプル,山田 太郎,taro@sample.co.jp,営業部長,"１，２００",東京,IT',
    "ｻﾝﾌﾟﾙ(株),鈴木 花子,hanako@sample.co.jp,課長,,東京都,",
    "テスト工業株式会社,田中 一郎,ichiro@gmail.com,代表取締役,50,Osaka,謎の業種",
)


def snapshot():
    companies = sorted(
        Company.objects.values_list(
            "name", "name_kana", "corporate_number", "domain", "prefecture", "city", "address"
        )
    )
    contacts = sorted(Contact.objects.values_list("email", "name", "company__name", "job_level"))
    return companies, contacts


@pytest.mark.parametrize("encoding", ["cp932", "utf-8-sig", "utf-8"])
def test_each_accepted_encoding_imports_the_same_rows(encoding):
    outcome = leads_import_csv(data=csv_bytes(*CONTACTS, encoding=encoding), dry_run=False)
    assert outcome.is_valid, outcome.errors
    assert outcome.encoding == encoding
    assert outcome.counts["companies_created"] == 2
    assert outcome.counts["contacts_created"] == 3
    taro = Contact.objects.select_related("company").get(email="taro@sample.co.jp")
    assert taro.company.name == "株式会社サンプル"
    assert taro.company.employee_count == 1200  # full-width "１，２００"
    assert taro.company.prefecture == "13" and taro.company.region == "kanto"
    assert taro.company.industry == "G"
    assert taro.company.domain == "sample.co.jp"  # from the e-mail address


def test_the_cp932_fixture_imports_and_normalises_full_width_input():
    outcome = leads_import_csv(data=(FIXTURES / "leads_cp932.csv").read_bytes(), dry_run=False)
    assert outcome.is_valid, outcome.errors
    assert outcome.encoding == "cp932"
    assert [c.header for c in outcome.columns if c.is_ignored] == ["備考"]
    assert outcome.counts == {
        "companies_created": 3,
        "companies_updated": 0,
        "companies_unchanged": 0,
        "contacts_created": 3,
        "contacts_updated": 0,
        "contacts_unchanged": 0,
    }
    shoji = Company.objects.get(corporate_number="1234567890123")
    assert shoji.name == "株式会社サンプル商事"  # ｻﾝﾌﾟﾙ商事(株) on line 3 is the same company
    assert shoji.domain == "sample-shoji.co.jp"
    assert shoji.revenue_band == Company.RevenueBand.FROM_1B  # 50億円
    assert shoji.postal_code == "100-0005" and shoji.address == "丸の内1-1-1"
    hanako = Contact.objects.get(email="hanako.sato@sample-shoji.co.jp")  # full-width e-mail
    assert hanako.company_id == shoji.id
    assert hanako.name_kana == "サトウ ハナコ"  # half-width kana made full-width
    assert hanako.job_level == Contact.JobLevel.DIRECTOR
    ichiro = Contact.objects.select_related("company").get(email="ichiro@test-ss.jp")
    assert ichiro.company.name == "(株)テスト製作所"  # ㈱ is NFKC-normalised
    assert ichiro.company.employee_count == 300  # "300名" is exact
    assert ichiro.is_unsubscribed
    hajime = Company.objects.get(name="有限会社はじめ")
    assert (hajime.prefecture, hajime.region, hajime.employee_count) == ("01", "hokkaido", 15)


def test_a_bad_row_in_the_middle_writes_nothing_and_reports_its_line():
    lines = ["会社名,氏名,メールアドレス,従業員数,都道府県,備考"]
    lines += [f"会社{i},人{i},p{i}@c{i}.co.jp,10,東京,ok" for i in range(1, 6)]
    lines.insert(3, '会社X,人X,x@cx.co.jp,10,東京,"two\r\nlines"')  # shifts later lines by 2
    lines.insert(5, "会社Y,人Y,not-an-email,約300名,ムー大陸,")
    outcome = leads_import_csv(data=csv_bytes(*lines), dry_run=False)
    assert not outcome.is_valid
    assert outcome.error_count == 3
    assert {(e.line, e.field) for e in outcome.errors} == {
        (7, "メールアドレス"),
        (7, "従業員数"),
        (7, "都道府県"),
    }
    assert any("約300名" in e.message for e in outcome.errors)
    assert outcome.counts == {}
    assert Company.objects.count() == 0 and Contact.objects.count() == 0


def test_a_row_without_email_or_company_is_an_error():
    outcome = leads_import_csv(
        data=csv_bytes("会社名,氏名,メールアドレス", ",山田,", "サンプル,,"), dry_run=True
    )
    assert [(e.line, e.field) for e in outcome.errors] == [(2, "")]


def test_a_file_without_identifying_columns_is_refused():
    with pytest.raises(ImportFileError) as caught:
        leads_import_csv(data=csv_bytes("氏名,役職", "山田,部長"), dry_run=True)
    assert "会社名" in caught.value.message


def test_a_broken_encoding_is_refused_and_nothing_is_written():
    with pytest.raises(ImportFileError):
        leads_import_csv(data=csv_bytes(*CONTACTS, encoding="euc_jp"), dry_run=False)
    assert Company.objects.count() == 0


def test_too_many_rows_are_refused(settings):
    settings.IMPORT_MAX_ROWS = 2
    with pytest.raises(ImportFileError):
        leads_import_csv(data=csv_bytes(*CONTACTS), dry_run=True)


def test_dry_run_reports_and_writes_nothing():
    CompanyFactory(name="株式会社サンプル", domain="sample.co.jp", employee_count=10)
    outcome = leads_import_csv(data=csv_bytes(*CONTACTS), dry_run=True)
    assert outcome.dry_run and outcome.is_valid
    assert outcome.counts == {
        "companies_created": 1,
        "companies_updated": 1,
        "companies_unchanged": 0,
        "contacts_created": 3,
        "contacts_updated": 0,
        "contacts_unchanged": 0,
    }
    assert Company.objects.count() == 1 and Contact.objects.count() == 0
    assert Company.objects.get().employee_count == 10


def test_re_importing_the_same_file_changes_nothing():
    data = (FIXTURES / "leads_cp932.csv").read_bytes()
    leads_import_csv(data=data, dry_run=False)
    before = snapshot()
    outcome = leads_import_csv(data=data, dry_run=False)
    assert outcome.counts == {
        "companies_created": 0,
        "companies_updated": 0,
        "companies_unchanged": 3,
        "contacts_created": 0,
        "contacts_updated": 0,
        "contacts_unchanged": 3,
    }
    assert snapshot() == before


def test_name_variants_match_an_existing_company_and_keep_its_spelling():
    existing = CompanyFactory(name="株式会社サンプル", domain="", employee_count=None)
    data = csv_bytes("会社名,従業員数", "ｻﾝﾌﾟﾙ(株),120", "（株）サンプル,130")
    outcome = leads_import_csv(data=data, dry_run=False)
    assert outcome.counts["companies_updated"] == 1 and outcome.counts["companies_created"] == 0
    existing.refresh_from_db()
    assert (existing.name, existing.employee_count) == ("株式会社サンプル", 130)
    # The second row repeated the company; the later value won, and the outcome says so.
    assert {(n.line, n.code) for n in outcome.notes} >= {(3, "company_duplicate")}


def test_import_overwrites_only_the_values_the_file_gives():
    company = CompanyFactory(name="株式会社サンプル", domain="sample.co.jp", city="港区")
    contact = ContactFactory(
        company=company, email="taro@sample.co.jp", name="山田 太郎", title="部長", phone="03-1"
    )
    data = csv_bytes("メールアドレス,氏名,役職,電話番号,会社名", "TARO@sample.co.jp,,社長,,")
    outcome = leads_import_csv(data=data, dry_run=False)
    assert outcome.counts["contacts_updated"] == 1
    contact.refresh_from_db()
    assert (contact.name, contact.title, contact.phone) == ("山田 太郎", "社長", "03-1")
    assert contact.job_level == Contact.JobLevel.EXECUTIVE  # derived from the new title
    assert contact.company_id == company.id
    company.refresh_from_db()
    assert company.city == "港区"


def test_duplicate_emails_in_the_file_merge_and_the_later_row_wins():
    data = csv_bytes(
        "メールアドレス,氏名,役職,部署",
        "taro@sample.co.jp,山田 太郎,課長,営業部",
        "Taro@Sample.co.jp,,部長,",
    )
    outcome = leads_import_csv(data=data, dry_run=False)
    assert outcome.counts["contacts_created"] == 1
    assert [(n.line, n.code) for n in outcome.notes] == [(3, "contact_duplicate")]
    contact = Contact.objects.get()
    assert (contact.name, contact.title, contact.department) == ("山田 太郎", "部長", "営業部")
    assert contact.job_level == Contact.JobLevel.DIRECTOR


@pytest.mark.parametrize(
    ("title", "level"),
    [
        ("代表取締役社長", "executive"),
        ("CEO", "executive"),
        ("取締役 営業本部長", "executive"),
        ("営業本部長", "director"),
        ("Head of Marketing", "director"),
        ("社長室 課長", "manager"),
        ("Sales Manager", "manager"),
        ("主任", "staff"),
        ("Engineer", "staff"),
    ],
)
def test_job_level_is_derived_from_the_title(title, level):
    leads_import_csv(data=csv_bytes("メール,役職", f"a@b.co.jp,{title}"), dry_run=False)
    assert Contact.objects.get().job_level == level


def test_an_explicit_job_level_wins_over_the_title():
    data = csv_bytes("メール,役職,役職区分", "a@b.co.jp,社長,manager")
    leads_import_csv(data=data, dry_run=False)
    assert Contact.objects.get().job_level == "manager"


def test_free_mail_domains_do_not_become_company_domains():
    leads_import_csv(data=csv_bytes(*CONTACTS), dry_run=False)
    assert Company.objects.get(name="テスト工業株式会社").domain == ""


def test_two_companies_sharing_a_mail_domain_stay_apart():
    data = csv_bytes(
        "会社名,メール", "株式会社エー,taro@group.co.jp", "株式会社ビー,hanako@group.co.jp"
    )
    outcome = leads_import_csv(data=data, dry_run=False)
    assert outcome.counts["companies_created"] == 2
    assert Company.objects.get(name="株式会社エー").domain == "group.co.jp"
    assert Company.objects.get(name="株式会社ビー").domain == ""


def test_a_company_known_only_by_its_domain_gets_its_name_from_the_file():
    placeholder = CompanyFactory(name="bigcorp.co.jp", domain="bigcorp.co.jp")
    data = csv_bytes("会社名,メール", "株式会社ビッグ,taro@bigcorp.co.jp")
    outcome = leads_import_csv(data=data, dry_run=False)
    assert outcome.counts["companies_updated"] == 1
    placeholder.refresh_from_db()
    assert placeholder.name == "株式会社ビッグ"
    assert Contact.objects.get().company_id == placeholder.id


def test_a_mail_domain_does_not_pull_a_contact_into_another_named_company():
    CompanyFactory(name="株式会社エー", domain="group.co.jp")
    data = csv_bytes("会社名,メール", "株式会社ビー,hanako@group.co.jp")
    outcome = leads_import_csv(data=data, dry_run=False)
    assert outcome.counts["companies_created"] == 1
    hanako = Contact.objects.select_related("company").get()
    assert (hanako.company.name, hanako.company.domain) == ("株式会社ビー", "")


def test_unknown_industry_is_kept_as_given():
    leads_import_csv(data=csv_bytes(*CONTACTS), dry_run=False)
    company = Company.objects.get(name="テスト工業株式会社")
    assert (company.industry, company.industry_detail) == ("", "謎の業種")


def test_an_import_never_resubscribes_anybody():
    ContactFactory(email="a@b.co.jp", is_unsubscribed=True)
    outcome = leads_import_csv(data=csv_bytes("メール,配信停止", "a@b.co.jp,0"), dry_run=False)
    assert outcome.counts["contacts_unchanged"] == 1
    assert Contact.objects.get().is_unsubscribed


def test_conflicting_corporate_numbers_for_one_domain_are_an_error():
    data = csv_bytes(
        "会社名,法人番号,ドメイン",
        "株式会社エー,1111111111111,a.co.jp",
        "株式会社エー,2222222222222,a.co.jp",
    )
    outcome = leads_import_csv(data=data, dry_run=True)
    assert [(e.line, e.field, e.code) for e in outcome.errors] == [
        (3, "法人番号", "number_conflict")
    ]


def test_same_name_with_different_corporate_numbers_are_two_companies():
    data = csv_bytes(
        "法人番号,商号又は名称", "1111111111111,有限会社やまだ", "2222222222222,有限会社やまだ"
    )
    outcome = leads_import_csv(data=data, dry_run=False)
    assert outcome.counts["companies_created"] == 2
    assert Company.objects.count() == 2


def test_corporate_number_and_domain_are_filled_in_but_never_changed():
    company = CompanyFactory(name="株式会社サンプル", domain="", corporate_number="")
    CompanyFactory(name="別会社", domain="taken.co.jp")
    data = csv_bytes("会社名,法人番号,ドメイン", "株式会社サンプル,1234567890123,taken.co.jp")
    leads_import_csv(data=data, dry_run=False)
    # taken.co.jp belongs to 別会社: by domain the row is 別会社, which gets the number.
    company.refresh_from_db()
    assert company.corporate_number == ""
    assert Company.objects.get(domain="taken.co.jp").corporate_number == "1234567890123"


def test_progress_is_reported_every_thousand_rows():
    lines = ["メール"] + [f"p{i}@x.co.jp" for i in range(2500)]
    calls = []
    leads_import_csv(
        data=csv_bytes(*lines), dry_run=True, on_progress=lambda d, t: calls.append((d, t))
    )
    assert calls == [(0, 2500), (1000, 2500), (2000, 2500), (2500, 2500)]


def _big_file(n: int, offset: int = 0) -> bytes:
    lines = ["会社名,氏名,メールアドレス,役職,部署,電話番号,業種,従業員数,都道府県"]
    for i in range(offset, offset + n):
        lines.append(
            f"株式会社テスト{i // 4},社員 {i},person{i}@test{i // 4}.example.co.jp,"
            f"{'部長' if i % 3 else '担当'},営業部,03-0000-{i:04d},製造業,{100 + i},東京都"
        )
    return csv_bytes(*lines)


def test_a_2000_row_import_runs_a_bounded_number_of_queries(django_assert_max_num_queries):
    # Half the contacts and companies exist already, so both inserts and updates run.
    leads_import_csv(data=_big_file(1000), dry_run=False)
    with django_assert_max_num_queries(40):
        outcome = leads_import_csv(data=_big_file(2000), dry_run=False)
    assert outcome.counts["contacts_created"] == 1000
    assert outcome.counts["contacts_unchanged"] == 1000
    assert outcome.counts["companies_created"] == 250
    assert Contact.objects.count() == 2000
    with django_assert_max_num_queries(20):
        outcome = leads_import_csv(data=_big_file(2000), dry_run=True)
    assert outcome.counts["contacts_unchanged"] == 2000


def _nta(name: str) -> bytes:
    path = Path(settings.DEMO_DATASETS_DIR) / "jp_nta_houjin_bangou" / name
    # Fails (never skips) when the shared datasets are missing.
    assert path.is_file(), f"missing dataset {path}"
    return path.read_bytes()


def test_the_nta_sample_files_import_the_same_companies_in_both_encodings():
    outcome = leads_import_csv(data=_nta("sample_excel_cp932.csv"), dry_run=False)
    assert outcome.is_valid, outcome.errors[:5]
    assert (outcome.encoding, outcome.total_rows) == ("cp932", 1748)
    assert outcome.counts["companies_created"] == 1748
    assert outcome.counts["contacts_created"] == 0
    from_cp932 = snapshot()

    outcome = leads_import_csv(data=_nta("sample_excel_utf8bom.csv"), dry_run=False)
    assert outcome.encoding == "utf-8-sig"
    assert outcome.counts["companies_unchanged"] == 1748
    assert snapshot() == from_cp932

    Company.objects.all().delete()
    leads_import_csv(data=_nta("sample_excel_utf8bom.csv"), dry_run=False)
    assert snapshot() == from_cp932
    company = Company.objects.get(corporate_number="1140001096923")
    assert (company.name, company.name_kana) == ("西武ハウス工業株式会社", "セイブハウスコウギョウ")
    assert (company.prefecture, company.city, company.postal_code) == ("31", "鳥取市", "680-0061")


def test_an_address_that_is_not_one_is_a_row_error_and_nothing_is_written():
    ContactFactory(email="ab@c.co.jp", name="")
    outcome = leads_import_csv(
        data=csv_bytes(
            "会社名,氏名,メールアドレス",
            "サンプル,山田,a b@c.co.jp",
            "サンプル,田中,<script>@c.co.jp",
            "サンプル,鈴木,ok.name@c.co.jp",
            "サンプル,佐藤,a..b@c.co.jp",
        ),
        dry_run=False,
    )
    assert [(e.line, e.code) for e in outcome.errors] == [
        (2, "email_invalid"),
        (3, "email_invalid"),
        (5, "email_invalid"),
    ]
    assert list(Contact.objects.values_list("email", "name")) == [("ab@c.co.jp", "")]


def test_a_company_name_of_punctuation_only_is_a_row_error_not_a_crash():
    # "[" has no match key: it could neither match a company nor be created as one.
    outcome = leads_import_csv(
        data=csv_bytes("会社名,氏名,メールアドレス", "[,山田,", "・・,田中,t@x.co.jp"),
        dry_run=False,
    )
    assert [(e.line, e.code) for e in outcome.errors] == [
        (2, "company_name_invalid"),
        (3, "company_name_invalid"),
    ]
    assert not Company.objects.exists() and not Contact.objects.exists()
