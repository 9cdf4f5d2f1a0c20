#!/usr/bin/env python3
"""Benchmark pg_migrate against a plain `psql -1 -f` loop over the same files.

For N generated migrations (default 10, 100, 1000) on one throwaway cluster:

* module end to end: `ansible-playbook` running sensa.infra.pg_migrate on a fresh database
  (wall time), plus the module's own elapsed time (it reports `elapsed_ms`);
* psql loop: `psql -X -q -1 -v ON_ERROR_STOP=1 -f FILE` for every file, on another fresh database;
* no-op re-run: the module again on the migrated database (wall time and module time).

Usage: .venv/bin/python bench/migrate_bench.py [--sizes 10,100,1000] [--engine embedded|system]
Writes bench/results/migrate.json and prints a Markdown table. Not a test: nothing is asserted.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests"))

from support.collection import ensure_collection_link  # noqa: E402

ensure_collection_link()
from ansible_collections.sensa.infra.plugins.module_utils import pg_cluster  # noqa: E402

PLAYBOOK = os.path.join(REPO, "tests", "integration", "migrate", "playbooks", "pg_migrate.yml")


def generate(directory, count):
    """Realistic small migrations: a table with a foreign key, an index, a comment, a few rows.

    ``directory`` is the migrations directory; rollbacks go to ``rollbacks`` beside it (the
    collection's layout). Returns the migrations directory."""
    rollbacks = os.path.join(os.path.dirname(directory), "rollbacks")
    os.makedirs(directory, exist_ok=True)
    os.makedirs(rollbacks, exist_ok=True)
    for i in range(1, count + 1):
        version = "20250101_%04d" % i if i < 10000 else None
        parent = "bench_%04d" % (i - 1)
        fk = ", parent_id bigint REFERENCES %s (id) ON DELETE CASCADE" % parent if i > 1 else ""
        up = (
            "-- generated benchmark migration %d\n"
            "CREATE TABLE IF NOT EXISTS bench_%04d (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
            "name text NOT NULL CHECK (name <> '')%s, created_at timestamptz NOT NULL DEFAULT now());\n"
            "CREATE INDEX IF NOT EXISTS bench_%04d_name_idx ON bench_%04d (name);\n"
            "COMMENT ON TABLE bench_%04d IS 'benchmark table %d';\n"
            "INSERT INTO bench_%04d (name) SELECT 'row ' || g FROM generate_series(1, 10) g;\n"
        ) % (i, i, fk, i, i, i, i, i)
        down = "DROP TABLE IF EXISTS bench_%04d;\n" % i
        with open(os.path.join(directory, "%s_bench_%04d.sql" % (version, i)), "w") as handle:
            handle.write(up)
        with open(os.path.join(rollbacks, "%s_rollback.sql" % version), "w") as handle:
            handle.write(down)
    return directory


def run_module(cluster, dbname, path, result_file):
    login = {"login_unix_socket": cluster.socket_dir, "login_port": cluster.port, "login_user": "postgres",
             "login_db": dbname}
    extra = {"login": login, "migrate": {"path": path, "lint": "off"}, "result_file": result_file}
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"))
    start = time.perf_counter()
    subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), PLAYBOOK, "-i", "localhost,",
                    "-e", json.dumps(extra)], cwd=REPO, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - start
    with open(result_file) as handle:
        result = json.load(handle)
    return wall, result["elapsed_ms"] / 1000.0, len(result["applied"])


def run_psql_loop(cluster, dbname, path):
    files = sorted(f for f in os.listdir(path) if f.endswith(".sql"))
    psql = os.path.join(cluster.bindir, "psql")
    start = time.perf_counter()
    for name in files:
        subprocess.run([psql, "-X", "-q", "-1", "-v", "ON_ERROR_STOP=1", "-h", cluster.socket_dir, "-p",
                        str(cluster.port), "-U", "postgres", "-d", dbname, "-f", os.path.join(path, name)],
                       check=True, capture_output=True)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--engine", default=pg_cluster.default_engine())
    parser.add_argument("--output", default=os.path.join(HERE, "results", "migrate.json"))
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    work = tempfile.mkdtemp(prefix="sensa-bench-migrate-")
    cluster = pg_cluster.Cluster(os.path.join(work, "cluster"), engine=args.engine)
    cluster.init()
    cluster.start()
    rows = []
    try:
        version = cluster.server_version()
        for n in sizes:
            path = os.path.join(work, "m%d" % n, "migrations")
            generate(path, n)
            cluster.create_database("mod_%d" % n)
            cluster.create_database("psql_%d" % n)
            result_file = os.path.join(work, "result_%d.json" % n)
            wall, module_s, applied = run_module(cluster, "mod_%d" % n, path, result_file)
            assert applied == n, (applied, n)
            psql_s = run_psql_loop(cluster, "psql_%d" % n, path)
            noop_wall, noop_module_s, noop_applied = run_module(cluster, "mod_%d" % n, path, result_file)
            assert noop_applied == 0
            rows.append({"n": n, "module_end_to_end_s": round(wall, 3), "module_own_s": round(module_s, 3),
                         "psql_loop_s": round(psql_s, 3), "ratio_end_to_end_vs_psql": round(wall / psql_s, 3),
                         "noop_end_to_end_s": round(noop_wall, 3), "noop_module_own_s": round(noop_module_s, 3)})
            print(json.dumps(rows[-1]), flush=True)
    finally:
        cluster.destroy()
    report = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "engine": args.engine, "server_version": version, "results": rows,
        "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
    }
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "w") as handle:
        json.dump(report, handle, indent=2)
    print("\n| N | module end to end (s) | module own (s) | psql -1 -f loop (s) | e2e / psql | no-op e2e (s) | no-op module own (s) |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print("| %(n)d | %(module_end_to_end_s).2f | %(module_own_s).2f | %(psql_loop_s).2f | %(ratio_end_to_end_vs_psql).2f "
              "| %(noop_end_to_end_s).2f | %(noop_module_own_s).3f |" % r)


if __name__ == "__main__":
    main()
