"""The generated people: names with readings, titles, e-mail addresses, phones."""

from __future__ import annotations

import random
from dataclasses import dataclass

from leads.models import Contact
from portal.demo.catalog import (
    AREA_CODES,
    DEPARTMENTS,
    GIVEN_NAMES,
    INDUSTRY_DEPARTMENTS,
    KANA_ROMAJI,
    SURNAMES,
    TITLES,
    TOTTORI_AREA_CODES,
    seeded_rng,
)
from portal.demo.companies import CompanySpec


@dataclass(frozen=True)
class ContactSpec:
    company_domain: str
    email: str
    name: str
    name_kana: str
    title: str
    department: str
    job_level: str
    phone: str
    is_unsubscribed: bool
    engagement: str  # cold / warm / hot: how much activity we generate


_SMALL = {"ャ": "a", "ュ": "u", "ョ": "o"}


def kana_to_romaji(kana: str) -> str:
    """Passport-style Hepburn for e-mail addresses: サトウ ショウタ -> sato shota."""
    out: list[str] = []
    double = False
    for char in kana:
        if char == "ッ":
            double = True
            continue
        if char in _SMALL and out and len(out[-1]) >= 2:
            # キャ -> kya, シャ -> sha, チュ -> chu
            head = out[-1][:-1]
            out[-1] = (head if head.endswith(("sh", "ch", "j")) else head + "y") + _SMALL[char]
            continue
        syllable = KANA_ROMAJI.get(char, " " if char == " " else "")
        if double and syllable:
            syllable = ("t" if syllable.startswith("ch") else syllable[0]) + syllable
            double = False
        out.append(syllable)
    text = "".join(out)
    for long_vowel, short in (("ou", "o"), ("oo", "o"), ("uu", "u")):
        text = text.replace(long_vowel, short)
    return text


def _phone(rng: random.Random, spec: CompanySpec, exchange: str) -> str:
    area = AREA_CODES.get(spec.prefecture, "03")
    if spec.prefecture == "31":
        area = next((code for town, code in TOTTORI_AREA_CODES if town in spec.city), "0857")
    # 10 digits in all. The exchange starts with 0, which no real 市内局番 does,
    # so a demo number is well-formed but never reaches a real line.
    exchange = exchange[: 6 - len(area)]
    return f"{area}-{exchange}-{rng.randrange(10_000):04d}"


def _contact_counts(companies: list[CompanySpec], total: int) -> list[int]:
    """How many contacts each company gets: about 30% none, 1-6 otherwise, ``total`` in all."""
    wanted = []
    for spec in companies:
        rng = seeded_rng("contacts", spec.domain)
        if rng.random() < 0.3:
            wanted.append(0)
            continue
        top = 2 if spec.employee_count < 20 else 4 if spec.employee_count < 300 else 6
        wanted.append(rng.randint(1, top))
    with_contacts = [i for i, k in enumerate(wanted) if k]
    if not with_contacts:
        return wanted
    factor = total / sum(wanted)
    counts = [min(6, max(1, round(k * factor))) if k else 0 for k in wanted]
    # Settle the rounding one contact at a time, round-robin, to hit the total;
    # companies drop to none only when the total is below one each.
    diff = total - sum(counts)
    step = 1 if diff > 0 else -1
    order = with_contacts if step > 0 else with_contacts[::-1]
    while diff:
        floor = 1 if total >= len(with_contacts) else 0
        movable = [i for i in order if (counts[i] < 6 if step > 0 else counts[i] > floor)]
        if not movable:
            break  # more than 6 per company asked for: give what fits
        for i in movable[: abs(diff)]:
            counts[i] += step
            diff -= step
    return counts


def _engagement(draw: float, heat: float) -> str:
    """cold / warm / hot; people at a hot account are more often hot themselves."""
    if draw < 0.08 + 0.35 * heat:
        return "hot"
    return "warm" if draw < 0.45 + 0.3 * heat else "cold"


def contact_specs(*, companies: list[CompanySpec], count: int) -> list[ContactSpec]:
    specs: list[ContactSpec] = []
    surname_weights = [1 / (rank + 8) for rank in range(len(SURNAMES))]
    for spec, n in zip(companies, _contact_counts(companies, count), strict=True):
        # One generator per company, drawn in order: person i is the same person
        # whatever the total, so a bigger run only adds people.
        rng = seeded_rng("people", spec.domain)
        exchange = f"0{rng.randrange(1000):03d}"
        used_titles: set[str] = set()
        used_locals: set[str] = set()
        departments = DEPARTMENTS + INDUSTRY_DEPARTMENTS.get(spec.industry, ())
        for _ in range(n):
            surname, surname_kana = rng.choices(SURNAMES, surname_weights)[0]
            given, given_kana = rng.choice(GIVEN_NAMES)
            weights = [
                w * (4 if spec.employee_count < 30 and lv == "executive" else 1)
                for _, lv, w, _ in TITLES
            ]
            title, level, _, depts = rng.choices(TITLES, weights)[0]
            if title == "代表取締役" and title in used_titles:
                title, level, depts = "取締役", Contact.JobLevel.EXECUTIVE, ("",)
            used_titles.add(title)
            department = rng.choice(depts or departments)
            family, first = kana_to_romaji(surname_kana), kana_to_romaji(given_kana)
            local = rng.choice(
                (
                    f"{first}.{family}",
                    f"{family}.{first}",
                    f"{first[0]}.{family}",
                    f"{family}-{first}",
                    f"{first[0]}{family}",
                )
            )
            base, k = local, 2
            while local in used_locals:
                local, k = f"{base}{k}", k + 1
            used_locals.add(local)
            specs.append(
                ContactSpec(
                    company_domain=spec.domain,
                    email=f"{local}@{spec.domain}",
                    name=f"{surname} {given}",
                    name_kana=f"{surname_kana} {given_kana}",
                    title=title,
                    department=department,
                    job_level=level,
                    phone=_phone(rng, spec, exchange),
                    is_unsubscribed=rng.random() < 0.03,
                    engagement=_engagement(rng.random(), spec.heat),
                )
            )
    return specs
