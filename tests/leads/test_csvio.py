"""CSV plumbing: decoding, line numbers, header aliases, the formula escaper, writing."""

import os

import pytest

from leads import csvio
from leads.csvio import CsvFileError, decode_csv, escape_formula, map_header, read_rows

JAPANESE = "会社名,氏名,メールアドレス\r\n株式会社サンプル,山田 太郎,taro@sample.co.jp\r\n"


def test_utf8_with_bom_is_detected():
    text, encoding = decode_csv(JAPANESE.encode("utf-8-sig"))
    assert encoding == "utf-8-sig"
    assert text.startswith("会社名")  # the BOM is not part of the first header


def test_utf8_without_bom_is_detected():
    text, encoding = decode_csv(JAPANESE.encode("utf-8"))
    assert (text, encoding) == (JAPANESE, "utf-8")


def test_cp932_is_detected_including_its_extensions():
    # ㈱ and ① are NEC specials, ～ is CP932's wave dash: Shift_JIS proper lacks them.
    source = "会社名,備考\r\n㈱サンプル,展示会①～\r\n"
    text, encoding = decode_csv(source.encode("cp932"))
    assert (text, encoding) == (source, "cp932")


def test_euc_jp_is_refused_with_a_clear_message():
    with pytest.raises(CsvFileError) as caught:
        decode_csv(JAPANESE.encode("euc_jp"))
    assert "UTF-8" in caught.value.message and "CP932" in caught.value.message


def test_euc_jp_kana_that_cp932_could_read_is_refused():
    # Bytes valid as CP932 (half-width kana) but meaning hiragana in EUC-JP.
    data = "かな,えいご\nあいう,abc\n".encode("euc_jp")
    with pytest.raises(CsvFileError):
        decode_csv(data)


def test_random_bytes_are_refused():
    with pytest.raises(CsvFileError):
        decode_csv(b"\x89PNG\r\n\x1a\n" + os.urandom(512))


def test_utf16_is_refused_with_advice():
    with pytest.raises(CsvFileError) as caught:
        decode_csv(JAPANESE.encode("utf-16"))
    assert "UTF-16" in caught.value.message


def test_empty_file_is_refused():
    with pytest.raises(CsvFileError):
        decode_csv(b"  \r\n")


def test_line_numbers_are_physical_lines_with_crlf_and_quoted_breaks():
    text = 'a,b\r\n1,"two\r\nlines"\r\n\r\n3,x\r\n'
    assert list(read_rows(text)) == [(1, ["a", "b"]), (2, ["1", "two\r\nlines"]), (5, ["3", "x"])]


def test_line_numbers_with_lf_only():
    assert [line for line, _ in read_rows("a\n1\n\n2\n")] == [1, 2, 4]


def test_tab_separated_files_are_sniffed():
    text = "会社名\tメール\nサンプル\tx@y.jp\n"
    assert csvio.sniff_delimiter(text) == "\t"
    assert list(read_rows(text, delimiter="\t"))[1] == (2, ["サンプル", "x@y.jp"])


def _fields(headers, kind="leads"):
    return [c.field for c in map_header(headers, kind=kind)]


def test_japanese_and_english_headers_map_to_fields():
    assert _fields(["会社名", "Company Name", "ＥーＭａｉｌ", "E-mail", " メール アドレス "]) == [
        "company_name",
        "",  # the second company-name column is ignored
        "",  # "ＥーＭａｉｌ" has a long-vowel mark, not a hyphen: unknown
        "email",
        "",  # repeats the e-mail column
    ]
    assert _fields(["企業名", "氏名", "役職", "部署", "TEL", "従業員数(人)", "〒"]) == [
        "company_name",
        "contact_name",
        "title",
        "department",
        "phone",
        "employee_count",
        "postal_code",
    ]


def test_nta_furigana_is_the_company_kana():
    nta = ["法人番号", "商号又は名称", "フリガナ", "法人種別", "都道府県", "市区町村", "丁目番地等"]
    assert _fields(nta) == [
        "corporate_number",
        "company_name",
        "company_kana",
        "",
        "prefecture",
        "city",
        "address",
    ]


def test_furigana_is_the_persons_kana_when_there_is_a_name_column():
    assert _fields(["会社名", "氏名", "フリガナ"]) == [
        "company_name",
        "contact_name",
        "contact_kana",
    ]
    assert _fields(["氏名(カナ)", "会社名カナ"]) == ["contact_kana", "company_kana"]


def test_unknown_columns_are_ignored_with_a_reason():
    columns = map_header(["会社名", "備考", ""], kind="leads")
    assert [c.is_ignored for c in columns] == [False, True, True]
    assert all(c.note for c in columns[1:])


def test_intent_headers():
    assert _fields(["ドメイン", "トピック", "強度", "日付", "提供元", "ID"], kind="intent") == [
        "domain",
        "topic",
        "strength",
        "observed_at",
        "provider",
        "external_id",
    ]


@pytest.mark.parametrize(
    "value",
    [
        "=1+1",
        "+81-3-1234",
        "-2+3",
        "@SUM(A1)",
        "\t=cmd",
        "\r=cmd",
        "＝HYPERLINK()",
        "＋1",
        "－1",
        "＠x",
    ],
)
def test_formula_starts_are_neutralised(value):
    assert escape_formula(value) == "'" + value


@pytest.mark.parametrize("value", ["", "株式会社サンプル", "03-1234-5678", "a=b", " =x", "'quoted"])
def test_harmless_values_are_kept(value):
    assert escape_formula(value) == value


def test_csv_stream_writes_a_bom_crlf_and_escapes_cells():
    body = b"".join(csvio.csv_stream([["名前", "数"], ["=1+1", 5], [None, -3]]))
    assert body.startswith(b"\xef\xbb\xbf")
    assert body.decode("utf-8-sig") == "名前,数\r\n'=1+1,5\r\n,-3\r\n"  # numbers are not text


def test_csv_stream_in_cp932_replaces_what_it_cannot_encode():
    body = b"".join(csvio.csv_stream([["髙橋", "🙂"]], encoding="cp932"))
    assert body.decode("cp932") == "髙橋,?\r\n"  # 髙 is in CP932 (IBM extension); emoji is not
