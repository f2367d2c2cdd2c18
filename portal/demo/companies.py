"""Which companies the demo has, and the attributes the datasets lack."""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass

from leads.normalize import clean_text, company_name_key
from leads.reference import parse_prefecture
from portal.demo.catalog import (
    DEMO_DOMAIN_SUFFIX,
    INDUSTRY_HINTS,
    INDUSTRY_WEIGHTS,
    JSIC_DIVISION_OF_MIDDLE,
    SEED,
    SYNTHETIC_CORES,
    SYNTHETIC_PREFIXES,
    TOTTORI_SHARE,
    seeded_rng,
)
from portal.demo.datasets import Datasets


@dataclass(frozen=True)
class CompanySpec:
    domain: str  # the natural key of every demo company
    name: str
    name_kana: str
    corporate_number: str
    industry: str
    industry_detail: str
    employee_count: int
    revenue_band: str
    prefecture: str
    city: str
    address: str
    postal_code: str
    heat: float  # 0-1: how much this account engages; drives contacts and intent


def _industry(rng: random.Random, name: str, jsic: dict[str, str]) -> tuple[str, str]:
    for word, division, middle in INDUSTRY_HINTS:
        if word in name:
            return division, jsic.get(middle, "")
    division = rng.choices(list(INDUSTRY_WEIGHTS), list(INDUSTRY_WEIGHTS.values()))[0]
    middles = sorted(code for code in jsic if JSIC_DIVISION_OF_MIDDLE.get(code[:2]) == division)
    return division, jsic[rng.choice(middles)] if middles else ""


def _size(rng: random.Random, median: float) -> tuple[int, str]:
    employees = max(5, min(20_000, round(rng.lognormvariate(math.log(median), 1.1))))
    revenue_million_yen = employees * rng.uniform(12, 45)
    bands = ((100, "lt_100m"), (1_000, "100m_1b"), (10_000, "1b_10b"), (100_000, "10b_100b"))
    band = next((b for limit, b in bands if revenue_million_yen < limit), "gte_100b")
    return employees, band


def _postal(digits: str) -> str:
    return f"{digits[:3]}-{digits[3:]}" if len(digits) == 7 else digits


_PO_BOX_RE = re.compile(r"[（(][^）)]*私書箱[^）)]*[）)]")


def _from_tottori(row: dict[str, str], jsic: dict[str, str]) -> CompanySpec:
    rng = seeded_rng("company", row["corporate_number"])
    name = clean_text(row["name"])
    industry, detail = _industry(rng, name, jsic)
    # 有限会社 and 合同会社 are small by nature; a 株式会社 in Tottori is still mostly small.
    employees, band = _size(rng, {"301": 25, "302": 8, "305": 5}[row["kind"]])
    return CompanySpec(
        domain=f"c{row['corporate_number']}{DEMO_DOMAIN_SUFFIX}",
        name=name,
        name_kana=clean_text(row["furigana"]),
        corporate_number=row["corporate_number"],
        industry=industry,
        industry_detail=detail,
        employee_count=employees,
        revenue_band=band,
        prefecture=row["prefecture_code"],
        city=clean_text(row["city_name"]),
        address=clean_text(row["street_number"]),
        postal_code=_postal(row["post_code"]),
        heat=rng.random() ** 1.5,
    )


def _kana_without_legal_form(kana: str) -> str:
    parts = clean_text(kana).replace("-", "ー").split(" ")
    kept = [p for p in parts if p not in {"カブシキガイシヤ", "カブシキカイシヤ", "(カブ)"}]
    return " ".join(kept)


def _from_jigyosyo(row: dict[str, str], domain: str, jsic: dict[str, str]) -> CompanySpec:
    rng = seeded_rng("company", domain)
    name = clean_text(row["name"].replace("\u3000", ""))
    industry, detail = _industry(rng, name, jsic)
    # Japan Post gives its own postal code to establishments with much mail: big ones.
    employees, band = _size(rng, 250)
    return CompanySpec(
        domain=domain,
        name=name,
        name_kana=_kana_without_legal_form(row["name_kana"]),
        corporate_number="",
        industry=industry,
        industry_detail=detail,
        employee_count=employees,
        revenue_band=band,
        prefecture=parse_prefecture(row["prefecture"]) or "",
        city=clean_text(row["city"]),
        address=_PO_BOX_RE.sub("", clean_text(row["town"] + row["address_detail"])).strip(),
        postal_code=_postal(row["postal_code"]),
        heat=rng.random() ** 1.5,
    )


def company_specs(*, datasets: Datasets, count: int) -> list[CompanySpec]:
    """``count`` companies: real ones when the datasets are loaded, else invented ones.

    Each list is shuffled once with the fixed seed and cut, so a smaller run's
    companies are a subset of a bigger run's.
    """
    if not datasets.tottori:
        return _synthetic_company_specs(count)
    tottori = sorted(datasets.tottori, key=lambda r: r["corporate_number"])
    random.Random(SEED).shuffle(tottori)
    n_tottori = min(len(tottori), round(count * TOTTORI_SHARE))
    specs = [_from_tottori(r, datasets.jsic_middle) for r in tottori[:n_tottori]]
    seen = {company_name_key(s.name) for s in specs}
    nationwide = [r for r in datasets.jigyosyo if r["prefecture"] != "鳥取県"]
    random.Random(SEED + 1).shuffle(nationwide)
    per_postal: dict[str, int] = {}
    for row in nationwide:
        if len(specs) >= count:
            break
        key = company_name_key(row["name"])
        if key in seen:
            continue  # one company, several establishments: keep the first
        seen.add(key)
        n = per_postal[row["postal_code"]] = per_postal.get(row["postal_code"], 0) + 1
        domain = f"{row['postal_code']}-{n}{DEMO_DOMAIN_SUFFIX}"
        specs.append(_from_jigyosyo(row, domain, datasets.jsic_middle))
    return specs


def _synthetic_company_specs(count: int) -> list[CompanySpec]:
    names = [(p, c) for p in SYNTHETIC_PREFIXES for c in SYNTHETIC_CORES]
    random.Random(SEED).shuffle(names)
    specs = []
    for n, ((prefix, prefix_kana), (core, core_kana)) in enumerate(names[:count], start=1):
        domain = f"demo-{n}{DEMO_DOMAIN_SUFFIX}"
        rng = seeded_rng("company", domain)
        name = f"株式会社{prefix}{core}" if rng.random() < 0.6 else f"{prefix}{core}株式会社"
        industry, _ = _industry(rng, name, {})
        prefecture = rng.choice(("13", "13", "13", "14", "23", "27", "40", "01", "04", "34", "31"))
        employees, band = _size(rng, 60)
        specs.append(
            CompanySpec(
                domain=domain,
                name=name,
                name_kana=prefix_kana + core_kana,
                corporate_number="",
                industry=industry,
                industry_detail="",
                employee_count=employees,
                revenue_band=band,
                prefecture=prefecture,
                city="",
                address="",
                postal_code="",
                heat=rng.random() ** 1.5,
            )
        )
    return specs
