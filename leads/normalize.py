"""Normalisation of the text that identifies companies and people.

Match keys are NFKC-normalised so that full-width and half-width input, the
ideographic space and the one-character legal forms (㈱, ㈲) meet on one key.
Pure functions, no Django.
"""

from __future__ import annotations

import re
import unicodedata

# Legal forms, longest first so that 特定非営利活動法人 wins over shorter parts.
# Matched after NFKC (㈱ has already become (株)) and case folding. Japanese
# forms match anywhere (prefix or suffix, no word boundaries in Japanese);
# Latin ones only as whole words, or "inc" would eat "Principal".
_JA_FORMS = [
    "株式会社",
    "有限会社",
    "合同会社",
    "合資会社",
    "合名会社",
    "一般社団法人",
    "一般財団法人",
    "公益社団法人",
    "公益財団法人",
    "特定非営利活動法人",
    "npo法人",
    "医療法人社団",
    "医療法人財団",
    "医療法人",
    "社会福祉法人",
    "学校法人",
    "宗教法人",
    "協同組合",
    "独立行政法人",
    "(株)",
    "(有)",
    "(同)",
    "(資)",
    "(名)",
    "(社)",
    "(財)",
    "(医)",
    "(福)",
    "(学)",
]
_LATIN_FORMS = [
    "co.,ltd.",
    "co., ltd.",
    "co.,ltd",
    "co., ltd",
    "co.ltd.",
    "co. ltd.",
    "co ltd",
    "company limited",
    "corporation",
    "corp.",
    "corp",
    "inc.",
    "inc",
    "ltd.",
    "ltd",
    "llc",
    "k.k.",
    "g.k.",
    "kabushiki kaisha",
]
_LEGAL_RE = re.compile(
    "|".join(re.escape(f) for f in sorted(_JA_FORMS, key=len, reverse=True))
    + "|(?<![a-z0-9])(?:"
    + "|".join(re.escape(f) for f in sorted(_LATIN_FORMS, key=len, reverse=True))
    + ")(?![a-z0-9])"
)
_SPACES_RE = re.compile(r"\s+")
# Spaces and the punctuation people type inconsistently inside company names.
NAME_NOISE = r"\s・･.,、。'\"()\[\]「」『』\-‐−–—ー_/&＆"
_NOISE_RE = re.compile(f"[{NAME_NOISE}]+")
# The local part is a dot-atom (RFC 5322 3.2.3): atext characters in dot-separated
# runs, so no leading, trailing or doubled dot, no spaces, quotes or angle brackets.
# Quoted local parts ("a b"@x.jp) are legal but never real; they are refused too.
_ATEXT = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+"
# A host name: labels of letters, digits and inner hyphens, then a top-level domain of
# letters or an internationalised one in its ASCII form (xn--p1ai is .рф).
HOST_NAME = (
    r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{0,58}[a-z0-9])"
)
_EMAIL_RE = re.compile(rf"^{_ATEXT}(?:\.{_ATEXT})*@{HOST_NAME}$")
_DOMAIN_RE = re.compile(rf"^{HOST_NAME}$")
EMAIL_LOCAL_MAX_LENGTH = 64  # RFC 5321 4.5.3.1.1
EMAIL_MAX_LENGTH = 254


def clean_text(value: str | None) -> str:
    """NFKC, one space between words, trimmed. For display fields, not keys."""
    if not value:
        return ""
    text = unicodedata.normalize("NFKC", str(value))
    return _SPACES_RE.sub(" ", text).strip()


def normalize_identifier(value: str) -> str:
    """Another system's id (an event's source and external_id, a signal's provider and id).

    Surrounding whitespace (Unicode, so the ideographic space too) is trimmed and
    the text is NFC-normalised, so the same id typed composed ("が") or decomposed
    ("か" + U+3099) is one id. Nothing else: ids stay case- and width-sensitive.
    """
    return unicodedata.normalize("NFC", value.strip())


def company_name_key(name: str | None) -> str:
    """The key two spellings of one company name share.

    >>> company_name_key("株式会社　サンプル") == company_name_key("ｻﾝﾌﾟﾙ(株)")
    True
    """
    text = unicodedata.normalize("NFKC", name or "").casefold()
    text = _SPACES_RE.sub(" ", text).strip()
    stripped = _LEGAL_RE.sub(" ", text)
    key = _NOISE_RE.sub("", stripped)
    if not key:  # the name was nothing but a legal form
        key = _NOISE_RE.sub("", text)
    # The long-vowel mark was removed with the dashes; that is deliberate:
    # "コンピュータ" and "コンピューター" are the same company in practice.
    return key[:255]


def is_company_name(name: str) -> bool:
    """Whether ``name`` can name a company: it has a key (not only spaces and punctuation)."""
    return bool(company_name_key(name))


def normalize_email(value: str | None) -> str:
    """NFKC (full-width ＠ and letters become ASCII), trimmed, lower-case.

    A space inside is kept, so that is_valid_email refuses "a b@c.jp" instead
    of storing somebody else's "ab@c.jp".
    """
    return clean_text(value).lower()


def is_valid_email(value: str) -> bool:
    """A normalised address whose local part is a dot-atom of at most 64 characters."""
    if not value or len(value) > EMAIL_MAX_LENGTH or not _EMAIL_RE.match(value):
        return False
    return len(value.rpartition("@")[0]) <= EMAIL_LOCAL_MAX_LENGTH


def normalize_domain(value: str | None) -> str:
    """A bare host name: no scheme, path, port, ``www.`` or trailing dot."""
    text = clean_text(value).lower().replace(" ", "")
    if not text:
        return ""
    text = re.sub(r"^[a-z][a-z0-9+.-]*://", "", text)
    text = text.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    text = text.rsplit("@", 1)[-1].split(":", 1)[0].rstrip(".")
    if text.startswith("www."):
        text = text[4:]
    try:
        text = text.encode("idna").decode("ascii")
    except UnicodeError:
        return text
    return text


def is_valid_domain(value: str) -> bool:
    return bool(value) and len(value) <= 253 and bool(_DOMAIN_RE.match(value))


def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[-1] if "@" in email else ""


def normalize_digits(value: str | None) -> str:
    """Full-width digits to ASCII, separators dropped: "１，２００" -> "1200"."""
    return re.sub(r"[\s,，、_]", "", clean_text(value))


def normalize_phone(value: str | None) -> str:
    text = clean_text(value).replace(" ", "")
    return re.sub(r"[‐−–—ー]", "-", text)[:32]
