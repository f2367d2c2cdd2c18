"""The companies of a leads file: grouping its rows, matching and planning the writes.

Set-based: a bounded number of queries per 5,000 companies, never one per row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from leads import csvio
from leads.models import Company
from leads.normalize import company_name_key
from leads.services.imports.outcome import RowError, RowNote, _error, _note
from leads.services.imports.rows import _LeadParser, _LeadRow
from leads.services.resolve import CompanyRef, companies_match, companies_resolve

WRITE_BATCH = 1000  # rows per INSERT … ON CONFLICT statement
_CHUNK = 5000  # keys per IN (…) when loading rows


# Fields the import writes; anything else on the rows is left alone.
COMPANY_FIELDS = (
    "name",
    "name_key",
    "name_kana",
    "corporate_number",
    "domain",
    "industry",
    "industry_detail",
    "employee_count",
    "revenue_band",
    "prefecture",
    "region",
    "city",
    "address",
    "postal_code",
)


class _Group:
    """The rows of the file that name one company."""

    __slots__ = (
        "domain",
        "domain_is_derived",
        "first_line",
        "lines",
        "name",
        "name_key",
        "number",
        "rows",
    )

    def __init__(self, line: int) -> None:
        self.first_line = line
        self.number = ""
        self.domain = ""
        self.domain_is_derived = False
        self.name = ""
        self.name_key = ""
        self.lines: dict[str, int] = {}  # "number"/"domain" -> line that gave it
        self.rows: list[tuple[int, dict[str, Any]]] = []

    @property
    def ref(self) -> CompanyRef:
        return CompanyRef.make(name=self.name, domain=self.domain, corporate_number=self.number)


class _Grouper:
    """Groups rows by company the way companies_match matches them.

    Corporate number first, then domain, then the name key; a name joins the
    first group with that key unless the group has another corporate number or
    domain (two companies may share a name). A domain taken from an e-mail
    address is weak evidence: on any conflict it is dropped, never an error.
    """

    def __init__(self, parser: _LeadParser) -> None:
        self.parser = parser
        self.groups: list[_Group] = []
        self.by_number: dict[str, _Group] = {}
        self.by_domain: dict[str, _Group] = {}
        self.by_key: dict[str, _Group] = {}

    def _compatible(self, group: _Group, number: str, domain: str, derived: bool) -> bool:
        if number and group.number and number != group.number:
            return False
        weak = derived or group.domain_is_derived
        return not (domain and group.domain and domain != group.domain and not weak)

    def add(self, row: _LeadRow) -> tuple[_Group | None, RowError | RowNote | None]:
        number, domain, derived = row.number, row.domain, row.domain_is_derived
        name = row.company.get("name", "")
        key = company_name_key(name) if name else ""
        by_number = self.by_number.get(number) if number else None
        by_domain = self.by_domain.get(domain) if domain else None
        header = self.parser.header.get
        if derived and by_domain and key and by_domain.name and by_domain.name_key != key:
            # Two names sharing a mail domain (group companies, agencies) stay apart.
            by_domain, domain, derived = None, "", False
        if by_number and by_domain and by_number is not by_domain:
            if not derived:
                return None, _error(
                    row.line,
                    header(csvio.F_DOMAIN, ""),
                    "number_domain_conflict",
                    number_line=by_number.lines.get("number", by_number.first_line),
                    domain_line=by_domain.lines.get("domain", by_domain.first_line),
                )
            by_domain, domain, derived = None, "", False
        group = by_number or by_domain
        if group is not None and number and group.number and number != group.number:
            if derived:
                group, domain, derived = None, "", False
            else:
                return None, _error(
                    row.line,
                    header(csvio.F_CORPORATE_NUMBER, ""),
                    "number_conflict",
                    value=number,
                    other=group.number,
                    other_line=group.lines["number"],
                )
        if group is not None and domain and group.domain and domain != group.domain:
            if derived:
                domain, derived = "", False
            elif not group.domain_is_derived:
                return None, _error(
                    row.line,
                    header(csvio.F_DOMAIN, ""),
                    "domain_conflict",
                    value=domain,
                    other=group.domain,
                    other_line=group.lines["domain"],
                )
        if group is None and key:
            candidate = self.by_key.get(key)
            if candidate is not None and self._compatible(candidate, number, domain, derived):
                group = candidate
        note: RowNote | None = None
        if group is None:
            group = _Group(row.line)
            self.groups.append(group)
        elif not row.email:
            note = _note(row.line, "company_duplicate", other_line=group.rows[-1][0])
        if number and not group.number:
            group.number = number
            group.lines["number"] = row.line
            self.by_number[number] = group
        upgrades = not group.domain or (group.domain_is_derived and not derived)
        if domain and upgrades and self.by_domain.get(domain, group) is group:
            group.domain, group.domain_is_derived = domain, derived
            group.lines["domain"] = row.line
            self.by_domain[domain] = group
        if key:
            self.by_key.setdefault(key, group)
            if group.name_key != key:  # a spelling variant keeps the first spelling
                group.name, group.name_key = name, key
        group.rows.append((row.line, row.company))
        return group, note


def _chunks(values: Sequence, size: int = _CHUNK) -> Iterable[Sequence]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


@dataclass
class _Target:
    """One company the import touches: existing, or new (pk None in a dry run)."""

    company: Company
    groups: list[_Group]
    is_new: bool
    before: dict[str, Any] = field(default_factory=dict)
    changed: bool = False


def _match_groups(groups: list[_Group]) -> dict[int, int]:
    """Group index -> existing company id, via companies_match.

    A domain taken from an e-mail address is weak evidence: such a group is
    matched by 法人番号 and name first, and by the e-mail domain only if the
    company found has the same name or just a placeholder name (its domain, as
    the API names a company it only knows by domain). Otherwise the group
    loses that domain, so that creating it cannot collide with the company
    that holds it.
    """
    refs = {
        i: g.ref
        if not g.domain_is_derived
        else CompanyRef.make(name=g.name, corporate_number=g.number)
        for i, g in enumerate(groups)
    }
    found = companies_match(refs=refs.values())
    matched = {i: found[r] for i, r in refs.items() if r in found}
    by_domain = {
        i: g.domain
        for i, g in enumerate(groups)
        if i not in matched and g.domain_is_derived and g.domain
    }
    if by_domain:
        domain_refs = {d: CompanyRef.make(domain=d) for d in by_domain.values()}
        found = companies_match(refs=domain_refs.values())
        ids = {d: found[r] for d, r in domain_refs.items() if r in found}
        keys: dict[int, str] = {}
        for chunk in _chunks(sorted(set(ids.values()))):
            keys.update(Company.objects.filter(id__in=chunk).values_list("id", "name_key"))
        for i, domain in by_domain.items():
            group = groups[i]
            if domain not in ids:
                continue
            key = keys.get(ids[domain], "")
            if not group.name_key or key in {group.name_key, company_name_key(domain)}:
                matched[i] = ids[domain]
            else:
                group.domain, group.domain_is_derived = "", False
    return matched


def _load_companies(ids: Iterable[int]) -> dict[int, Company]:
    loaded: dict[int, Company] = {}
    for chunk in _chunks(sorted(set(ids))):
        loaded.update(Company.objects.in_bulk(chunk))
    return loaded


def _holders(values: set[str], field_name: str, **only: str) -> dict[str, int]:
    """value -> id of the company holding it (for the unique constraints)."""
    holders: dict[str, int] = {}
    for chunk in _chunks(sorted(values)):
        rows = Company.objects.filter(**{f"{field_name}__in": chunk}, **only)
        holders.update(rows.values_list(field_name, "id"))
    return holders


# Company field -> the CSV column that gives it (for notes).
_COLUMN_OF = {
    "name": csvio.F_COMPANY_NAME,
    "name_kana": csvio.F_COMPANY_KANA,
    "industry": csvio.F_INDUSTRY,
    "industry_detail": csvio.F_INDUSTRY,
    "employee_count": csvio.F_EMPLOYEES,
    "revenue_band": csvio.F_REVENUE,
    "prefecture": csvio.F_PREFECTURE,
    "region": csvio.F_PREFECTURE,
    "city": csvio.F_CITY,
    "address": csvio.F_ADDRESS,
    "postal_code": csvio.F_POSTAL_CODE,
}


def _merge_rows(target: _Target, header: dict[str, str], notes: list[RowNote]) -> None:
    """Apply the target's rows in line order: later non-empty values win (and say so)."""
    company = target.company
    rows = sorted((r for g in target.groups for r in g.rows), key=lambda r: r[0])
    given: dict[str, tuple[int, Any]] = {}
    for line, values in rows:
        differs: tuple[str, int] | None = None
        for name, value in values.items():
            if name == "name" and company.name and company_name_key(value) == company.name_key:
                continue  # 株式会社サンプル vs ｻﾝﾌﾟﾙ(株): a spelling, not a new name
            earlier = given.get(name)
            if differs is None and earlier is not None and earlier[1] != value:
                differs = (name, earlier[0])
            given[name] = (line, value)
            setattr(company, name, value)
            if name == "name":
                company.name_key = company_name_key(value)
        if differs is not None:
            column = header.get(_COLUMN_OF.get(differs[0], ""), "")
            notes.append(_note(line, "company_value_differs", column=column, other_line=differs[1]))


def _plan_companies(
    groups: list[_Group], *, write: bool, header: dict[str, str], notes: list[RowNote]
) -> tuple[dict[int, _Target], dict[str, int]]:
    """id(group) -> the company it lands on, with the file's values applied (not saved).

    Reads a bounded number of queries per 5,000 companies. When ``write``,
    first creates the missing companies through companies_resolve (bare rows;
    its unique constraints make a concurrent import meet on the same rows).
    """
    matched = _match_groups(groups)
    unmatched = [i for i in range(len(groups)) if i not in matched]
    new_ids: dict[int, int] = {}
    if write and unmatched:
        resolved = companies_resolve(refs=[groups[i].ref for i in unmatched])
        new_ids = {i: resolved[groups[i].ref] for i in unmatched}
    loaded = _load_companies([*matched.values(), *new_ids.values()])

    # Several groups may land on one company (e.g. one named by domain, one by
    # 法人番号): they become one target and their rows merge.
    targets: dict[object, _Target] = {}
    by_group: dict[int, _Target] = {}
    for i, group in enumerate(groups):
        pk = matched.get(i, new_ids.get(i))
        key: object = pk if pk is not None else ("new", group.ref)
        target = targets.get(key)
        if target is None:
            company = loaded[pk] if pk is not None else Company()
            before = {f: getattr(company, f) for f in COMPANY_FIELDS}
            target = targets[key] = _Target(company, [], i not in matched, before)
        target.groups.append(group)
        by_group[id(group)] = target
    for target in targets.values():
        _merge_rows(target, header, notes)

    # 法人番号 and domain are filled in when missing, never changed (another
    # value means another company, and companies_match decided which one this
    # is), and only if no other company holds them (unique constraints).
    for name, attr in (("corporate_number", "number"), ("domain", "domain")):
        wanted: dict[str, _Target] = {}
        for target in targets.values():
            for group in target.groups:
                value = getattr(group, attr)
                if value and not getattr(target.company, name):
                    wanted.setdefault(value, target)
        holders = _holders(set(wanted), name) if wanted else {}
        for value, target in wanted.items():
            is_free = holders.get(value, target.company.pk) == target.company.pk
            if is_free and not getattr(target.company, name):
                setattr(target.company, name, value)

    # A renamed company without domain or 法人番号 must not take the name key
    # of another such company (the name-only unique constraint).
    renamed = [
        t
        for t in targets.values()
        if not t.is_new
        and t.company.name_key != t.before["name_key"]
        and not (t.company.domain or t.company.corporate_number)
    ]
    holders = _holders(
        {t.company.name_key for t in renamed}, "name_key", domain="", corporate_number=""
    )
    claimed: dict[str, _Target] = {}
    for target in renamed:
        company = target.company
        owner = holders.get(company.name_key, company.pk)
        if owner != company.pk or claimed.setdefault(company.name_key, target) is not target:
            notes.append(_note(target.groups[0].rows[-1][0], "name_kept", value=company.name))
            company.name, company.name_key = target.before["name"], target.before["name_key"]

    for target in targets.values():
        target.changed = any(getattr(target.company, f) != v for f, v in target.before.items())
    return by_group, {
        "companies_created": sum(1 for t in targets.values() if t.is_new),
        "companies_updated": sum(1 for t in targets.values() if not t.is_new and t.changed),
        "companies_unchanged": sum(1 for t in targets.values() if not t.is_new and not t.changed),
    }


def _upsert_by_id(model, objects: list, fields: Sequence[str]) -> None:
    """One INSERT … ON CONFLICT (id) DO UPDATE per batch: a set-based bulk update."""
    if objects:
        model.objects.bulk_create(
            objects,
            batch_size=WRITE_BATCH,
            update_conflicts=True,
            unique_fields=["id"],
            update_fields=[*fields, "updated_at"],
        )
