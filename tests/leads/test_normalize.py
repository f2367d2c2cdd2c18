"""Match keys: full-width, half-width and legal-form spellings meet on one key."""

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leads.normalize import (
    company_name_key,
    is_valid_email,
    normalize_digits,
    normalize_domain,
    normalize_email,
)
from leads.reference import parse_industry, parse_prefecture, region_for


@pytest.mark.parametrize(
    "spelling",
    [
        "株式会社サンプル",
        "株式会社　サンプル",
        "サンプル株式会社",
        "㈱サンプル",
        "(株)サンプル",
        "（株）サンプル",
        "ｻﾝﾌﾟﾙ(株)",
        " サンプル 株式会社 ",
    ],
)
def test_company_name_variants_share_a_key(spelling):
    assert company_name_key(spelling) == "サンプル"


def test_latin_legal_forms_are_whole_words_only():
    assert company_name_key("Principal Inc.") == "principal"
    assert company_name_key("Sample Co., Ltd.") == company_name_key("SAMPLE CO.,LTD.")
    assert company_name_key("Altdorf LLC") == "altdorf"


def test_a_name_that_is_only_a_legal_form_keeps_a_key():
    assert company_name_key("有限会社") == "有限会社"


@given(st.text(max_size=60))
def test_key_is_stable_under_nfkc(name):
    assert company_name_key(unicodedata.normalize("NFKC", name)) == company_name_key(name)


@given(st.text(max_size=60))
def test_key_is_idempotent_on_plain_text(name):
    key = company_name_key(name)
    assert len(key) <= 255
    assert " " not in key


def test_full_width_email_is_normalised():
    assert normalize_email("Ｔａｒｏ＠ＥＸＡＭＰＬＥ.co.jp ") == "taro@example.co.jp"
    assert is_valid_email("taro@example.co.jp")
    assert not is_valid_email("taro@localhost")
    assert not is_valid_email("not an email")


@pytest.mark.parametrize(
    "raw,domain",
    [
        ("https://www.Example.co.jp/path?q=1", "example.co.jp"),
        ("EXAMPLE.CO.JP.", "example.co.jp"),
        ("ｅｘａｍｐｌｅ．ｃｏｍ", "example.com"),
        ("mailto:taro@example.com", "example.com"),
        ("", ""),
    ],
)
def test_domains_are_bare_host_names(raw, domain):
    assert normalize_domain(raw) == domain


def test_full_width_digits():
    assert normalize_digits("１，２００") == "1200"


@pytest.mark.parametrize("text", ["東京都", "東京", "Tokyo", "13", "１３", "東京都千代田区丸の内"])
def test_prefecture_in_any_spelling(text):
    assert parse_prefecture(text) == "13"


def test_unknown_prefecture_is_none_and_blank_is_blank():
    assert parse_prefecture("Atlantis") is None
    assert parse_prefecture("") == ""


def test_industry_from_name_code_or_alias():
    assert parse_industry("製造業") == "E"
    assert parse_industry("情報通信業") == "G"
    assert parse_industry("IT") == "G"
    assert parse_industry("G") == "G"
    assert parse_industry("Manufacturing") == "E"
    assert parse_industry("宇宙開発") is None


def test_regions():
    assert region_for("13") == "kanto"
    assert region_for("31") == "chugoku"
    assert region_for("47") == "kyushu"


@pytest.mark.parametrize(
    "address",
    [
        "taro@example.co.jp",
        "taro.yamada@example.co.jp",
        "o'brien+news@example.com",
        "a_b-c=d@sub.example.jp",
        "x" * 64 + "@example.jp",  # the longest local part RFC 5321 allows
    ],
)
def test_real_addresses_are_valid(address):
    assert is_valid_email(normalize_email(address))


@pytest.mark.parametrize(
    "address",
    [
        "<script>@x.com",
        ".taro@example.co.jp",
        "taro.@example.co.jp",  # old Japanese carrier addresses had these; they are refused
        "ta..ro@example.co.jp",
        "x" * 65 + "@example.jp",
        "a b@c.com",
        "a　b@c.com",  # an ideographic space
        '"a b"@c.com',
        "a@b@c.com",
        "taro@example",
    ],
)
def test_what_is_not_an_address_is_refused(address):
    assert not is_valid_email(normalize_email(address))


def test_a_space_inside_an_address_is_kept_so_it_is_refused_not_merged():
    assert normalize_email(" a b@c.com ") == "a b@c.com"  # never somebody else's ab@c.com


def test_an_internationalised_top_level_domain_in_ascii_form_is_valid():
    assert is_valid_email(normalize_email("taro@example.xn--p1ai"))  # .рф
    assert normalize_domain("https://shop.xn--p1ai/") == "shop.xn--p1ai"
    assert not is_valid_email("taro@example.xn--p1a-")  # a label never ends with a hyphen
