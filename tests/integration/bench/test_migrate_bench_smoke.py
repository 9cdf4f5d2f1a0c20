"""Smoke test of bench/migrate_bench.py: every installed tool applies a handful of generated
migrations, pg_migrate's result is read from the json stdout callback, the medians and the
rounds are written. Figures are never asserted (machines are noisy); the harness's own
checks (every tool created every table, pg_migrate applied N and then nothing) are."""

import json
import os
import subprocess
import sys

from support.collection import REPO_ROOT

SCRIPT = os.path.join(REPO_ROOT, "bench", "migrate_bench.py")


def test_migrate_bench_runs_each_tool_and_reports_medians(pg_engine, tmp_path):
    output = tmp_path / "migrate.json"
    proc = subprocess.run(
        [sys.executable, SCRIPT, "--sizes", "3", "--repeat", "2", "--engine", pg_engine,
         "--tools", "pg_migrate,psql_loop,psql_single,dbmate,sqitch,yoyo", "--output", str(output), "--chart", ""],
        capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads(output.read_text())
    (row,) = report["results"]
    assert row["n"] == 3 and row["repeat"] == 2
    for tool in report["tools"]:
        assert len(row["samples"]["%s_s" % tool]) == 2
        assert row["%s_s" % tool] > 0 and row["%s_ratio" % tool] > 0
    assert {"pg_migrate", "psql_loop", "psql_single"} <= set(report["tools"])
    assert row["pg_migrate_own_s"] <= row["pg_migrate_s"]
    assert set(report["skipped"]) | set(report["tools"]) == {"pg_migrate", "psql_loop", "psql_single", "dbmate",
                                                             "sqitch", "yoyo"}
