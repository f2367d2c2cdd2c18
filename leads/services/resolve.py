"""Set-based matching of incoming company and contact references to rows.

Both the REST API and the CSV import name companies loosely (a name in any
spelling, a domain, a 法人番号). These functions match a whole batch in a few
queries and create what is missing, relying on the unique constraints on
Company (domain, corporate number, name-only key) so that two batches racing
to create the same company meet on one row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import Q

from leads.models import Company
from leads.normalize import clean_text, company_name_key, is_company_name, normalize_domain
from leads.signals import lead_facts_changed

# Mail providers whose domain says nothing about the employer.
FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.co.jp",
        "yahoo.com",
        "ymail.ne.jp",
        "outlook.com",
        "outlook.jp",
        "hotmail.com",
        "hotmail.co.jp",
        "live.jp",
        "live.com",
        "msn.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "docomo.ne.jp",
        "ezweb.ne.jp",
        "au.com",
        "softbank.ne.jp",
        "i.softbank.jp",
        "ymobile.ne.jp",
        "nifty.com",
        "biglobe.ne.jp",
        "ocn.ne.jp",
        "so-net.ne.jp",
        "ybb.ne.jp",
        "gmx.com",
        "mail.com",
        "zoho.com",
        "yandex.com",
        "qq.com",
        "163.com",
    }
)

_CHUNK = 5000  # ids per IN (...): well under SQLite's variable limit


@dataclass(frozen=True)
class CompanyRef:
    """What a row or an event says about a company. Build it with ``make``."""

    name: str = ""
    domain: str = ""
    corporate_number: str = ""

    @classmethod
    def make(cls, *, name: str = "", domain: str = "", corporate_number: str = "") -> CompanyRef:
        """A ref from loose input. A name without a key ("[", "・・") names nothing and
        is dropped: it could neither match a company nor be created as one."""
        name = clean_text(name)[:255]
        return cls(
            name=name if is_company_name(name) else "",
            domain=normalize_domain(domain),
            corporate_number=clean_text(corporate_number).replace("-", ""),
        )

    @property
    def name_key(self) -> str:
        return company_name_key(self.name) if self.name else ""

    @property
    def is_empty(self) -> bool:
        return not (self.name or self.domain or self.corporate_number)


def is_free_mail(domain: str) -> bool:
    return domain in FREE_MAIL_DOMAINS


def _chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for i in range(0, len(values), _CHUNK):
        yield values[i : i + _CHUNK]


@dataclass
class _Index:
    by_number: dict[str, int]
    by_domain: dict[str, int]
    by_key: dict[str, tuple[int, str, str]]  # name key -> (id, number, domain)


def _load_index(refs: Sequence[CompanyRef]) -> _Index:
    numbers = sorted({r.corporate_number for r in refs if r.corporate_number})
    domains = sorted({r.domain for r in refs if r.domain})
    keys = sorted({r.name_key for r in refs if r.name_key})
    index = _Index({}, {}, {})
    for field, values in (("corporate_number", numbers), ("domain", domains), ("name_key", keys)):
        for chunk in _chunks(values):
            rows = (
                Company.objects.filter(Q(**{f"{field}__in": chunk}))
                .order_by("id")
                .values_list("id", "corporate_number", "domain", "name_key")
            )
            for pk, number, domain, key in rows:
                if number:
                    index.by_number.setdefault(number, pk)
                if domain:
                    index.by_domain.setdefault(domain, pk)
                # Lowest id wins for a name shared by several companies.
                index.by_key.setdefault(key, (pk, number, domain))
    return index


def _match(ref: CompanyRef, index: _Index) -> int | None:
    """Corporate number, then domain, then name: the most specific key decides."""
    if ref.corporate_number and ref.corporate_number in index.by_number:
        return index.by_number[ref.corporate_number]
    if ref.domain and ref.domain in index.by_domain:
        return index.by_domain[ref.domain]
    hit = index.by_key.get(ref.name_key) if ref.name_key else None
    if hit is None:
        return None
    pk, number, domain = hit
    # A ref that names a specific company matches by name only a company that
    # does not contradict it: another 法人番号 or domain means another company.
    if ref.corporate_number and number and number != ref.corporate_number:
        return None
    if ref.domain and domain and domain != ref.domain:
        return None
    return pk


def companies_match(*, refs: Iterable[CompanyRef]) -> dict[CompanyRef, int]:
    """Existing company ids for the refs that match one; creates nothing."""
    unique = [r for r in dict.fromkeys(refs) if not r.is_empty]
    index = _load_index(unique)
    found: dict[CompanyRef, int] = {}
    for ref in unique:
        pk = _match(ref, index)
        if pk is not None:
            found[ref] = pk
    return found


def companies_resolve(*, refs: Iterable[CompanyRef]) -> dict[CompanyRef, int]:
    """Company id for every non-empty ref, creating the missing companies.

    Runs a handful of queries whatever the batch size. Call it inside the
    caller's transaction. Specific refs (number or domain) are created first,
    so that a name-only ref in the same batch lands on them.
    """
    unique = [r for r in dict.fromkeys(refs) if not r.is_empty]
    found = companies_match(refs=unique)
    for specific in (True, False):
        missing = [
            r for r in unique if r not in found and bool(r.corporate_number or r.domain) == specific
        ]
        if missing and not specific:
            # Companies created by the first pass may carry these names.
            found.update(companies_match(refs=missing))
            missing = [r for r in missing if r not in found]
        if not missing:
            continue
        new: dict[tuple[str, str, str], Company] = {}
        for ref in missing:
            identity = (ref.corporate_number, ref.domain, "" if specific else ref.name_key)
            if identity in new:
                continue
            name = ref.name or ref.domain or ref.corporate_number
            new[identity] = Company(
                name=name,
                name_key=company_name_key(name),
                domain=ref.domain,
                corporate_number=ref.corporate_number,
            )
        # ignore_conflicts: a concurrent batch may have created the same company.
        Company.objects.bulk_create(list(new.values()), batch_size=1000, ignore_conflicts=True)
        created = companies_match(refs=missing)
        found.update(created)
        # A new company is a new account to score (a racing batch's twin is marked twice).
        lead_facts_changed(company_ids=created.values())
    return found
