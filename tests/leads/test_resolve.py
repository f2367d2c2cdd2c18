"""Set-based company matching shared by the API and the CSV import."""

import pytest

from leads.models import Company
from leads.services.resolve import CompanyRef, companies_match, companies_resolve
from tests.factories import CompanyFactory

pytestmark = pytest.mark.django_db


def test_name_variants_resolve_to_one_new_company():
    refs = [CompanyRef.make(name="株式会社サンプル"), CompanyRef.make(name="ｻﾝﾌﾟﾙ(株)")]
    found = companies_resolve(refs=refs)
    assert Company.objects.count() == 1
    assert found[refs[0]] == found[refs[1]]


def test_domain_wins_over_name():
    by_domain = CompanyFactory(name="株式会社エー", domain="a.example.jp")
    CompanyFactory(name="株式会社ビー", domain="b.example.jp")
    found = companies_resolve(refs=[CompanyRef.make(name="株式会社ビー", domain="A.example.jp")])
    assert list(found.values()) == [by_domain.id]


def test_name_does_not_match_a_company_with_another_domain():
    CompanyFactory(name="株式会社サンプル", domain="sample.example.jp")
    ref = CompanyRef.make(name="株式会社サンプル", domain="other.example.jp")
    found = companies_resolve(refs=[ref])
    assert Company.objects.count() == 2
    assert Company.objects.get(pk=found[ref]).domain == "other.example.jp"


def test_corporate_number_is_the_strongest_key():
    company = CompanyFactory(corporate_number="1234567890123", domain="x.example.jp")
    found = companies_match(
        refs=[CompanyRef.make(corporate_number="1234567890123", domain="y.example.jp")]
    )
    assert list(found.values()) == [company.id]


def test_name_only_ref_lands_on_a_company_created_in_the_same_batch():
    refs = [
        CompanyRef.make(name="株式会社シー", domain="c.example.jp"),
        CompanyRef.make(name="(株)シー"),
    ]
    found = companies_resolve(refs=refs)
    assert Company.objects.count() == 1
    assert found[refs[0]] == found[refs[1]]


def test_resolving_twice_creates_nothing_new():
    refs = [CompanyRef.make(name=f"株式会社テスト{i}") for i in range(50)]
    first = companies_resolve(refs=refs)
    second = companies_resolve(refs=refs)
    assert first == second
    assert Company.objects.count() == 50


def test_queries_do_not_grow_with_the_batch(django_assert_max_num_queries):
    refs = [CompanyRef.make(name=f"会社{i}", domain=f"d{i}.example.jp") for i in range(1500)]
    # A few lookups plus one INSERT per batch (SQLite batches are small).
    with django_assert_max_num_queries(40):
        companies_resolve(refs=refs)
    assert Company.objects.count() == 1500


def test_empty_refs_are_ignored():
    assert companies_resolve(refs=[CompanyRef.make(name="  ")]) == {}
