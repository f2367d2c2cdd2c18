"""The CSV import on the embedded default (SQLite) beside PostgreSQL (`make bench-import-sqlite`).

Builds a 41,000-row contacts file in CP932, as Excel writes it, in a temporary
directory: real company names, kana, 法人番号 and addresses from the NTA
corporate-number file of Tottori (/work/shared/datasets, read only; generated
companies if it is missing), about four people per company with generated
Japanese names, e-mail addresses, titles, departments and phone numbers.

Then, for each database, in a fresh one (a SQLite file in the temporary
directory; a PostgreSQL database of its own, bench_import_<pid>, on the server
DATABASE_URL names, default postgres://postgres@127.0.0.1:5432/postgres):
migrates it and times ``manage.py import_leads FILE`` as a user runs it, with
the embedded default's Celery (eager, the background thread rescoring the
imported leads before the command exits) on both, so that both do the same work.

BENCH_IMPORT_ROWS changes the row count; BENCH_IMPORT_PROFILE=1 also writes a
cProfile of the SQLite import to the temporary directory and prints its top.
The machine is shared: compare the two figures of one run, not across runs.

The last line is machine-readable:
``rows=… sqlite_s=… postgres_s=… ratio=…``
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", "41000"))
PROFILE = os.environ.get("BENCH_IMPORT_PROFILE", "").lower() in {"1", "true", "yes", "on"}
NTA = (
    Path(os.environ.get("DEMO_DATASETS_DIR", ROOT.parent / "shared" / "datasets"))
    / "jp_nta_houjin_bangou"
    / "tottori_houjin_utf8.csv.gz"
)

SURNAMES = ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤",
            "吉田", "山田", "佐々木", "山口", "松本", "井上", "木村", "林", "斎藤", "清水"]  # fmt: skip
SURNAME_KANA = ["サトウ", "スズキ", "タカハシ", "タナカ", "イトウ", "ワタナベ", "ヤマモト",
                "ナカムラ", "コバヤシ", "カトウ", "ヨシダ", "ヤマダ", "ササキ", "ヤマグチ",
                "マツモト", "イノウエ", "キムラ", "ハヤシ", "サイトウ", "シミズ"]  # fmt: skip
GIVEN = [("翔太", "ショウタ"), ("花子", "ハナコ"), ("大輔", "ダイスケ"), ("陽菜", "ヒナ"),
         ("健一", "ケンイチ"), ("美咲", "ミサキ"), ("直樹", "ナオキ"), ("結衣", "ユイ"),
         ("拓也", "タクヤ"), ("愛", "アイ"), ("誠", "マコト"), ("由美", "ユミ")]  # fmt: skip
ROMAJI = ["sato", "suzuki", "takahashi", "tanaka", "ito", "watanabe", "yamamoto", "nakamura",
          "kobayashi", "kato", "yoshida", "yamada", "sasaki", "yamaguchi", "matsumoto",
          "inoue", "kimura", "hayashi", "saito", "shimizu"]  # fmt: skip
TITLES = [
    "代表取締役",
    "取締役",
    "営業部長",
    "部長",
    "課長",
    "係長",
    "主任",
    "マネージャー",
    "",
    "",
]
DEPARTMENTS = ["営業部", "総務部", "経営企画室", "情報システム部", "マーケティング部", "製造部", ""]
INDUSTRIES = ["製造業", "情報通信業", "建設業", "卸売業", "小売業", "サービス業", ""]
HEADER = ["会社名", "会社名フリガナ", "法人番号", "都道府県", "市区町村", "住所", "郵便番号",
          "氏名", "氏名フリガナ", "メールアドレス", "役職", "部署", "電話番号", "従業員数", "業種"]  # fmt: skip


def _companies(count: int, rng: random.Random) -> list[list[str]]:
    """(name, kana, 法人番号, prefecture, city, street, postal code), CP932-encodable."""
    found: list[list[str]] = []
    if NTA.exists():
        with gzip.open(NTA, "rt", encoding="utf-8", newline="") as rows:
            for row in csv.DictReader(rows):
                if row["close_date"] or row["hihyoji"] == "1" or row["kind"] not in {
                    "301", "302", "305",
                }:  # fmt: skip
                    continue
                values = [
                    row["name"],
                    row["furigana"],
                    row["corporate_number"],
                    row["prefecture_name"],
                    row["city_name"],
                    row["street_number"],
                    row["post_code"],
                ]
                try:
                    "".join(values).encode("cp932")
                except UnicodeEncodeError:
                    continue
                found.append(values)
    rng.shuffle(found)
    while len(found) < count:  # no dataset, or too few: generated companies
        n = len(found)
        found.append([f"株式会社ベンチ{n}", f"ベンチ{n}", f"{9000000000000 + n}", "東京都",
                      "千代田区", f"丸の内{n % 9 + 1}-1-1", f"100{n % 10000:04d}"])  # fmt: skip
    return found[:count]


def build_file(path: Path, rows: int, seed: int = 41) -> int:
    rng = random.Random(seed)
    companies = _companies(max(1, rows // 4), rng)
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for i in range(rows):
        name, kana, number, prefecture, city, street, postal = companies[i % len(companies)]
        s = rng.randrange(len(SURNAMES))
        given, given_kana = rng.choice(GIVEN)
        domain = f"c{number}.example.jp"
        email = f"{ROMAJI[s]}.{i}@{domain}" if i % 10 else f"{ROMAJI[s]}{i}@gmail.com"
        writer.writerow(
            [name, kana, number if i % 3 else "", prefecture, city, street, postal,
             f"{SURNAMES[s]} {given}", f"{SURNAME_KANA[s]} {given_kana}", email,
             rng.choice(TITLES), rng.choice(DEPARTMENTS), f"0857-{i // 10000 % 100:02d}-{i % 10000:04d}",
             f"{10 + (int(number[-4:]) % 3000)}名" if i % 2 else "", rng.choice(INDUSTRIES)]
        )  # fmt: skip
    path.write_bytes(out.getvalue().encode("cp932"))
    return rows


def _with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def _admin(url: str):
    import psycopg

    return psycopg.connect(
        _with_db(url, "postgres").replace("postgres://", "postgresql://", 1), autocommit=True
    )


def _env(database_url: str) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": database_url, "DEBUG": "true", "LANG": "en_US.UTF-8"}
    for name in ("REDIS_URL", "CELERY_BROKER_URL", "CELERY_TASK_ALWAYS_EAGER", "LOG_FILE"):
        env.pop(name, None)  # the embedded default's Celery on both databases
    return env


def _time_import(database_url: str, csv_path: Path, profile: Path | None = None) -> float:
    env = _env(database_url)
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, check=True, cwd=ROOT)
    command = [*manage, "import_leads", str(csv_path)]
    if profile is not None:
        command = [sys.executable, "-m", "cProfile", "-o", str(profile), *command[1:]]
    started = time.monotonic()
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"import failed on {database_url}:\n{done.stdout}\n{done.stderr}")
    print("  " + done.stdout.strip().splitlines()[-1], flush=True)
    return elapsed


def main() -> int:
    server = os.environ.get("DATABASE_URL", "")
    if not server.startswith("postgres"):
        server = "postgres://postgres@127.0.0.1:5432/postgres"
    with tempfile.TemporaryDirectory(prefix="bench_import_") as tmp:
        directory = Path(tmp)
        csv_path = directory / "leads_cp932.csv"
        build_file(csv_path, ROWS)
        size = csv_path.stat().st_size / 1e6
        print(
            f"{ROWS:,} rows, {size:.1f} MB CP932 ({'NTA companies' if NTA.exists() else 'generated companies'})"
        )

        print("SQLite (embedded default):", flush=True)
        profile = directory / "import.prof" if PROFILE else None
        sqlite_s = _time_import(f"sqlite:///{directory / 'bench.sqlite3'}", csv_path, profile)
        print(f"  {sqlite_s:.1f} s", flush=True)

        name = f"bench_import_{os.getpid()}"
        with _admin(server) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            print("PostgreSQL:", flush=True)
            postgres_s = _time_import(_with_db(server, name), csv_path)
            print(f"  {postgres_s:.1f} s", flush=True)
        finally:
            with _admin(server) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        if profile is not None:
            import pstats

            stats = pstats.Stats(str(profile))
            stats.sort_stats("cumulative").print_stats(35)
    ratio = sqlite_s / postgres_s
    print(
        f"SQLite {sqlite_s:.1f} s, PostgreSQL {postgres_s:.1f} s: {ratio:.2f}x (goal: at most 3x)"
    )
    print(f"rows={ROWS} sqlite_s={sqlite_s:.2f} postgres_s={postgres_s:.2f} ratio={ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
