"""Demo data for ``manage.py seed_demo``, built at seed time from real public datasets.

Real: company names, kana, corporate numbers and addresses (NTA 法人番号 for
Tottori, Japan Post 大口事業所 nationwide), JSIC industry names, the shape of web
sessions (UCI online shoppers) and of outbound campaigns (UCI bank marketing).
Generated: everything the datasets lack — industries, sizes, domains under the
reserved ``example.jp``, people, and the dates of what they did. docs/demo-data.md
says which is which.

Every generated value comes from ``random.Random`` seeded with SEED and a stable
key (a domain, an e-mail), so a run makes the same data for the same sizes, and
every row has a natural key (corporate number, domain, e-mail, source +
external id): a second run inserts nothing, and an interrupted run completes.

catalog.py holds the hand-written lists, datasets.py reads the files,
companies.py / people.py / behaviour.py plan rows as plain values, and seed.py
writes them.
"""

from portal.demo.catalog import (
    ATTRIBUTION,
    DEFAULT_COMPANIES,
    DEFAULT_CONTACTS,
    DEMO_DOMAIN_SUFFIX,
    DEMO_PASSWORD,
    DEMO_USERS,
    INTENT_PROVIDER,
    SOURCE_PREFIX,
    SYNTHETIC_COMPANIES,
    SYNTHETIC_CONTACTS,
)
from portal.demo.datasets import datasets_missing
from portal.demo.people import kana_to_romaji
from portal.demo.seed import DemoCounts, SeedResult, demo_reset, demo_seed

__all__ = [
    "ATTRIBUTION",
    "DEFAULT_COMPANIES",
    "DEFAULT_CONTACTS",
    "DEMO_DOMAIN_SUFFIX",
    "DEMO_PASSWORD",
    "DEMO_USERS",
    "INTENT_PROVIDER",
    "SOURCE_PREFIX",
    "SYNTHETIC_COMPANIES",
    "SYNTHETIC_CONTACTS",
    "DemoCounts",
    "SeedResult",
    "datasets_missing",
    "demo_reset",
    "demo_seed",
    "kana_to_romaji",
]
