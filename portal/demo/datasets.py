"""Reading the public datasets under DEMO_DATASETS_DIR, or stand-ins without them."""

from __future__ import annotations

import csv
import gzip
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from portal.demo.catalog import DATASET_FILES, SEED


@dataclass(frozen=True)
class Session:
    """One UCI online-shoppers session: page counts and seconds by page type."""

    administrative: int
    administrative_seconds: float
    informational: int
    informational_seconds: float
    product: int
    product_seconds: float
    traffic_type: int
    is_weekend: bool
    has_revenue: bool


@dataclass(frozen=True)
class BankRow:
    """One UCI bank-marketing row, read as an outbound campaign's shape."""

    campaign: int  # contacts made in this campaign
    previous: int
    poutcome: str
    is_success: bool  # y


@dataclass(frozen=True)
class Datasets:
    tottori: list[dict[str, str]]
    jigyosyo: list[dict[str, str]]
    jsic_middle: dict[str, str]  # middle code -> Japanese name
    sessions: list[Session]
    bank: list[BankRow]


def datasets_missing(directory: Path) -> list[Path]:
    """The dataset files the builder needs that are not under ``directory``."""
    return [directory / rel for rel in DATASET_FILES.values() if not (directory / rel).is_file()]


def _rows(path: Path, delimiter: str = ",") -> Iterator[dict[str, str]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle, delimiter=delimiter)


def datasets_load(directory: Path) -> Datasets:
    """Read and filter the datasets. Slow I/O: call it outside any transaction."""
    files = {name: directory / rel for name, rel in DATASET_FILES.items()}
    tottori = [
        r
        for r in _rows(files["tottori"])
        if not r["close_date"]
        and r["hihyoji"] != "1"
        and r["kind"] in {"301", "302", "305"}
        and not r["name_image_id"]  # a character outside JIS X 0208 was replaced
    ]
    # Names of two parts (legal form + name) are head offices or single sites;
    # "株式会社 X 札幌支社" is a branch of a company we may already have.
    jigyosyo = [
        r
        for r in _rows(files["jigyosyo"])
        if "株式会社" in r["name"] and len(r["name"].split("\u3000")) == 2
    ]
    jsic = {r["code"]: r["name_ja"] for r in _rows(files["jsic"]) if r["level"] == "middle"}
    sessions = [
        Session(
            administrative=int(r["Administrative"]),
            administrative_seconds=float(r["Administrative_Duration"]),
            informational=int(r["Informational"]),
            informational_seconds=float(r["Informational_Duration"]),
            product=int(r["ProductRelated"]),
            product_seconds=float(r["ProductRelated_Duration"]),
            traffic_type=int(r["TrafficType"]),
            is_weekend=r["Weekend"] == "TRUE",
            has_revenue=r["Revenue"] == "TRUE",
        )
        for r in _rows(files["sessions"])
    ]
    bank = [
        BankRow(
            campaign=int(r["campaign"]),
            previous=int(r["previous"]),
            poutcome=r["poutcome"],
            is_success=r["y"] == "yes",
        )
        for r in _rows(files["bank"], delimiter=";")
    ]
    return Datasets(tottori, jigyosyo, jsic, sessions, bank)


def datasets_synthetic() -> Datasets:
    """Stand-in session and campaign shapes when the real datasets are absent."""
    rng = random.Random(f"{SEED}:synthetic")
    sessions = [
        Session(
            administrative=rng.choice((0, 0, 1, 2, 3, 5)),
            administrative_seconds=rng.uniform(0, 200),
            informational=rng.choice((0, 0, 0, 1, 2)),
            informational_seconds=rng.uniform(0, 150),
            product=int(rng.lognormvariate(2.8, 1.0)),
            product_seconds=rng.uniform(60, 2000),
            traffic_type=rng.randint(1, 10),
            is_weekend=rng.random() < 0.23,
            has_revenue=rng.random() < 0.155,
        )
        for _ in range(2000)
    ]
    bank = [
        BankRow(
            campaign=rng.choice((1, 1, 2, 2, 3, 4, 6)),
            previous=rng.choice((0, 0, 0, 1)),
            poutcome=rng.choices(("nonexistent", "failure", "success"), (86, 11, 3))[0],
            is_success=rng.random() < 0.08,
        )
        for _ in range(2000)
    ]
    return Datasets([], [], {}, sessions, bank)
