"""Reference lists: JSIC major industry divisions and Japan's prefectures.

Codes and names are public facts (総務省 日本標準産業分類 第14回改定; JIS X 0401).
The English label is the msgid; the Japanese one comes from the translation
catalogue, and JA_NAMES lets imports read either language.
"""

from __future__ import annotations

import unicodedata
from functools import cache

from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _


class Industry(models.TextChoices):
    A = "A", _("Agriculture and forestry")
    B = "B", _("Fisheries")
    C = "C", _("Mining and quarrying of stone and gravel")
    D = "D", _("Construction")
    E = "E", _("Manufacturing")
    F = "F", _("Electricity, gas, heat supply and water")
    G = "G", _("Information and communications")
    H = "H", _("Transport and postal activities")
    I = "I", _("Wholesale and retail trade")  # noqa: E741
    J = "J", _("Finance and insurance")
    K = "K", _("Real estate and goods rental and leasing")
    L = "L", _("Scientific research, professional and technical services")
    M = "M", _("Accommodations, eating and drinking services")
    N = "N", _("Living-related and personal services and amusement services")
    O = "O", _("Education, learning support")  # noqa: E741
    P = "P", _("Medical, health care and welfare")
    Q = "Q", _("Compound services")
    R = "R", _("Services, not elsewhere classified")
    S = "S", _("Government, except elsewhere classified")
    T = "T", _("Industries unable to classify")


INDUSTRY_JA = {
    "A": "農業,林業",
    "B": "漁業",
    "C": "鉱業,採石業,砂利採取業",
    "D": "建設業",
    "E": "製造業",
    "F": "電気・ガス・熱供給・水道業",
    "G": "情報通信業",
    "H": "運輸業,郵便業",
    "I": "卸売業,小売業",
    "J": "金融業,保険業",
    "K": "不動産業,物品賃貸業",
    "L": "学術研究,専門・技術サービス業",
    "M": "宿泊業,飲食サービス業",
    "N": "生活関連サービス業,娯楽業",
    "O": "教育,学習支援業",
    "P": "医療,福祉",
    "Q": "複合サービス事業",
    "R": "サービス業(他に分類されないもの)",
    "S": "公務(他に分類されるものを除く)",
    "T": "分類不能の産業",
}
# Everyday words people type in a 業種 column, mapped to a division.
_INDUSTRY_ALIASES = {
    "it": "G",
    "情報通信": "G",
    "通信": "G",
    "ソフトウェア": "G",
    "情報サービス": "G",
    "saas": "G",
    "software": "G",
    "製造": "E",
    "メーカー": "E",
    "建設": "D",
    "卸売": "I",
    "小売": "I",
    "商社": "I",
    "金融": "J",
    "保険": "J",
    "銀行": "J",
    "不動産": "K",
    "医療": "P",
    "福祉": "P",
    "介護": "P",
    "教育": "O",
    "運輸": "H",
    "物流": "H",
    "飲食": "M",
    "宿泊": "M",
    "コンサルティング": "L",
    "官公庁": "S",
    "自治体": "S",
    "公務": "S",
    "サービス": "R",
    "農業": "A",
    "漁業": "B",
}


class Prefecture(models.TextChoices):
    HOKKAIDO = "01", _("Hokkaido")
    AOMORI = "02", _("Aomori")
    IWATE = "03", _("Iwate")
    MIYAGI = "04", _("Miyagi")
    AKITA = "05", _("Akita")
    YAMAGATA = "06", _("Yamagata")
    FUKUSHIMA = "07", _("Fukushima")
    IBARAKI = "08", _("Ibaraki")
    TOCHIGI = "09", _("Tochigi")
    GUNMA = "10", _("Gunma")
    SAITAMA = "11", _("Saitama")
    CHIBA = "12", _("Chiba")
    TOKYO = "13", _("Tokyo")
    KANAGAWA = "14", _("Kanagawa")
    NIIGATA = "15", _("Niigata")
    TOYAMA = "16", _("Toyama")
    ISHIKAWA = "17", _("Ishikawa")
    FUKUI = "18", _("Fukui")
    YAMANASHI = "19", _("Yamanashi")
    NAGANO = "20", _("Nagano")
    GIFU = "21", _("Gifu")
    SHIZUOKA = "22", _("Shizuoka")
    AICHI = "23", _("Aichi")
    MIE = "24", _("Mie")
    SHIGA = "25", _("Shiga")
    KYOTO = "26", _("Kyoto")
    OSAKA = "27", _("Osaka")
    HYOGO = "28", _("Hyogo")
    NARA = "29", _("Nara")
    WAKAYAMA = "30", _("Wakayama")
    TOTTORI = "31", _("Tottori")
    SHIMANE = "32", _("Shimane")
    OKAYAMA = "33", _("Okayama")
    HIROSHIMA = "34", _("Hiroshima")
    YAMAGUCHI = "35", _("Yamaguchi")
    TOKUSHIMA = "36", _("Tokushima")
    KAGAWA = "37", _("Kagawa")
    EHIME = "38", _("Ehime")
    KOCHI = "39", _("Kochi")
    FUKUOKA = "40", _("Fukuoka")
    SAGA = "41", _("Saga")
    NAGASAKI = "42", _("Nagasaki")
    KUMAMOTO = "43", _("Kumamoto")
    OITA = "44", _("Oita")
    MIYAZAKI = "45", _("Miyazaki")
    KAGOSHIMA = "46", _("Kagoshima")
    OKINAWA = "47", _("Okinawa")


PREFECTURE_JA = {
    "01": "北海道",
    "02": "青森県",
    "03": "岩手県",
    "04": "宮城県",
    "05": "秋田県",
    "06": "山形県",
    "07": "福島県",
    "08": "茨城県",
    "09": "栃木県",
    "10": "群馬県",
    "11": "埼玉県",
    "12": "千葉県",
    "13": "東京都",
    "14": "神奈川県",
    "15": "新潟県",
    "16": "富山県",
    "17": "石川県",
    "18": "福井県",
    "19": "山梨県",
    "20": "長野県",
    "21": "岐阜県",
    "22": "静岡県",
    "23": "愛知県",
    "24": "三重県",
    "25": "滋賀県",
    "26": "京都府",
    "27": "大阪府",
    "28": "兵庫県",
    "29": "奈良県",
    "30": "和歌山県",
    "31": "鳥取県",
    "32": "島根県",
    "33": "岡山県",
    "34": "広島県",
    "35": "山口県",
    "36": "徳島県",
    "37": "香川県",
    "38": "愛媛県",
    "39": "高知県",
    "40": "福岡県",
    "41": "佐賀県",
    "42": "長崎県",
    "43": "熊本県",
    "44": "大分県",
    "45": "宮崎県",
    "46": "鹿児島県",
    "47": "沖縄県",
}


class Region(models.TextChoices):
    HOKKAIDO = "hokkaido", _("Hokkaido region")
    TOHOKU = "tohoku", _("Tohoku")
    KANTO = "kanto", _("Kanto")
    CHUBU = "chubu", _("Chubu")
    KINKI = "kinki", _("Kinki")
    CHUGOKU = "chugoku", _("Chugoku")
    SHIKOKU = "shikoku", _("Shikoku")
    KYUSHU = "kyushu", _("Kyushu and Okinawa")


def region_for(prefecture_code: str) -> str:
    if not prefecture_code:
        return ""
    n = int(prefecture_code)
    for upper, region in (
        (1, Region.HOKKAIDO),
        (7, Region.TOHOKU),
        (14, Region.KANTO),
        (23, Region.CHUBU),
        (30, Region.KINKI),
        (35, Region.CHUGOKU),
        (39, Region.SHIKOKU),
        (47, Region.KYUSHU),
    ):
        if n <= upper:
            return region.value
    return ""


def _key(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().casefold().replace(" ", "")


@cache
def _pref_lookup() -> dict[str, str]:
    lookup: dict[str, str] = {}
    for code, ja in PREFECTURE_JA.items():
        lookup[_key(ja)] = code
        lookup[_key(ja.rstrip("都府県"))] = code  # 東京, 大阪, 神奈川
        lookup[code] = code
        lookup[str(int(code))] = code
    for member in Prefecture:
        lookup[_key(member.name)] = member.value
        for language in ("en", "ja"):
            with translation.override(language):
                lookup[_key(str(member.label))] = member.value
    lookup[_key("北海")] = "01"
    return lookup


@cache
def _ind_lookup() -> dict[str, str]:
    # Built on first use, under both languages: the labels are lazy and a
    # file may use either whatever the importing user's language is.
    lookup: dict[str, str] = {}
    for code, ja in INDUSTRY_JA.items():
        lookup[_key(ja)] = code
        lookup[_key(code)] = code
    for member in Industry:
        for language in ("en", "ja"):
            with translation.override(language):
                lookup[_key(str(member.label))] = member.value
    for alias, code in _INDUSTRY_ALIASES.items():
        lookup[_key(alias)] = code
    return lookup


def parse_prefecture(text: str) -> str | None:
    """A JIS prefecture code from 東京都 / 東京 / Tokyo / 13, or None."""
    key = _key(text)
    if not key:
        return ""
    if key in _pref_lookup():
        return _pref_lookup()[key]
    # An address that starts with the prefecture: 東京都千代田区…
    for code, ja in PREFECTURE_JA.items():
        if key.startswith(_key(ja)):
            return code
    return None


def parse_industry(text: str) -> str | None:
    """A JSIC division letter from its code, name (ja/en) or a common alias, or None."""
    key = _key(text)
    if not key:
        return ""
    lookup = _ind_lookup()
    if key in lookup:
        return lookup[key]
    for alias, code in lookup.items():
        if len(alias) >= 2 and not alias.isascii() and alias in key:
            return code
    return None
