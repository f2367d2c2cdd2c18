"""make bench-faults: the four injected faults of issue 14, with their figures.

Runs tests/test_faults.py (PostgreSQL, Redis, real Celery workers) with the
production lease and sweep cadence (SCORING_CHUNK_LEASE_SECONDS and
SCORING_SWEEP_SECONDS, 30 s each; BENCH_FAULT_LEASE / BENCH_FAULT_SWEEP change
them), so the time a killed worker holds a full rescore up is the real one, and
prints what each test measured: what was injected, how long until the system was
whole again, and the counts.

DATABASE_URL names the server (default postgres://postgres@127.0.0.1:5432/bench_faults;
pytest makes and drops test_bench_faults); REDIS_URL the shared Redis (default
redis://127.0.0.1:6379/14). The Redis fault starts a redis-server of its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    lease = os.environ.get("BENCH_FAULT_LEASE", "30")
    sweep = os.environ.get("BENCH_FAULT_SWEEP", "30")
    with tempfile.TemporaryDirectory() as scratch:
        figures = Path(scratch) / "figures.jsonl"
        env = {
            **os.environ,
            "DATABASE_URL": os.environ.get("DATABASE_URL")
            or "postgres://postgres@127.0.0.1:5432/bench_faults",
            "REDIS_URL": os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/14",
            "REQUIRE_SERVICES": "1",
            "FAULT_FIGURES": str(figures),
            "FAULT_LEASE_SECONDS": lease,
            "FAULT_SWEEP_SECONDS": sweep,
        }
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "--create-db"]
        run = subprocess.run([*command, "tests/test_faults.py"], cwd=ROOT, env=env, check=False)
        lines = figures.read_text(encoding="utf-8").splitlines() if figures.exists() else []
    print(f"\nFaults (chunk lease {lease} s, a sweep every {sweep} s):")
    for line in lines:
        record = json.loads(line)
        print(f"\n* {record.pop('fault')}")
        for key, value in record.items():
            print(f"    {key.replace('_', ' ')}: {value}")
    return run.returncode


if __name__ == "__main__":
    sys.exit(main())
