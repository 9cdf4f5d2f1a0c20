#!/usr/bin/env python3
"""pg_migrate side by side with other migration tools and the two psql floors.

For N generated migrations (default 10, 100, 1000), on one throwaway cluster, each tool on
a fresh database of its own, all in one run:

* pg_migrate: `ansible-playbook` running sensa.infra.pg_migrate (wall time, interpreter
  start and module transfer included), plus the module's own `elapsed_ms`; then a no-op
  re-run (wall and module time);
* dbmate (npm `dbmate`, its linux-x64 binary), `dbmate up` with the same SQL per file;
* sqitch (Debian `sqitch` + `libdbd-pg-perl`), `sqitch deploy`, one change per file, each
  script in BEGIN/COMMIT;
* yoyo-migrations (PyPI), `yoyo apply --batch`;
* psql per-file loop: `psql -X -q -1 -v ON_ERROR_STOP=1 -f FILE` for every file;
* psql single: one `psql -1 -f` over the concatenation of every file (the floor: one
  process, one connection, one transaction).

Every tool runs each file in its own transaction except the single psql. Ratios are to the
single psql. Install the peers first: `bash bench/install_peers.sh` (a tool that is not
installed is skipped and reported as such).

Usage: .venv/bin/python bench/migrate_bench.py [--sizes 10,100,1000] [--repeat 3] [--engine embedded|system]
       [--tools pg_migrate,dbmate,sqitch,yoyo,psql_loop,psql_single] [--chart docs/benchmarks_migrate.png]
Writes bench/results/migrate.json, the chart, and prints a Markdown table. Not a test.
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
# The committed collections/ link makes the checkout importable as sensa.infra; bench/ imports nothing from tests/.
sys.path.insert(0, os.path.join(REPO, "collections"))

from ansible_collections.sensa.infra.plugins.module_utils import pg_cluster  # noqa: E402

PLAYBOOK = os.path.join(HERE, "playbooks", "pg_migrate.yml")
PEERS = os.environ.get("SENSA_BENCH_PEERS", os.path.join(REPO, ".local", "bench-peers"))
TOOLS = ("pg_migrate", "dbmate", "sqitch", "yoyo", "psql_loop", "psql_single")


def generate(directory, count):
    """Realistic small migrations: a table with a foreign key, an index, a comment, a few rows.

    ``directory`` is the migrations directory; rollbacks go to ``rollbacks`` beside it (the
    collection's layout). Returns [(version, up_sql, down_sql)]."""
    rollbacks = os.path.join(os.path.dirname(directory), "rollbacks")
    os.makedirs(directory, exist_ok=True)
    os.makedirs(rollbacks, exist_ok=True)
    files = []
    for i in range(1, count + 1):
        version = "20250101_%04d" % i
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
        files.append((version, up, down))
    return files


def _timed(argv, **kwargs):
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, **kwargs)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError("%s failed (exit %d): %s %s" % (argv[0], proc.returncode, proc.stdout[-2000:],
                                                           proc.stderr[-2000:]))
    return wall


# pg_migrate ---------------------------------------------------------------------------
def run_pg_migrate(cluster, dbname, path):
    """ansible-playbook running the module alone; its result comes from the json stdout callback,
    so no task of the benchmark's own (writing a result file) is timed with it."""
    login = {"login_unix_socket": cluster.socket_dir, "login_port": cluster.port, "login_user": "postgres",
             "login_db": dbname}
    extra = {"login": login, "migrate": {"path": path, "lint": "off"}}
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
    argv = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), PLAYBOOK, "-i", "localhost,",
            "-e", json.dumps(extra)]
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError("ansible-playbook failed (exit %d): %s %s" % (proc.returncode, proc.stdout[-2000:],
                                                                         proc.stderr[-2000:]))
    result = json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    return wall, result["elapsed_ms"] / 1000.0, len(result["applied"])


# psql -----------------------------------------------------------------------------------
def _psql(cluster, dbname):
    return [os.path.join(cluster.bindir, "psql"), "-X", "-q", "-1", "-v", "ON_ERROR_STOP=1", "-h", cluster.socket_dir,
            "-p", str(cluster.port), "-U", "postgres", "-d", dbname]


def run_psql_loop(cluster, dbname, path):
    start = time.perf_counter()
    for name in sorted(f for f in os.listdir(path) if f.endswith(".sql")):
        _timed(_psql(cluster, dbname) + ["-f", os.path.join(path, name)])
    return time.perf_counter() - start


def run_psql_single(cluster, dbname, path, work):
    combined = os.path.join(work, "all_%s.sql" % dbname)
    with open(combined, "w") as out:
        for name in sorted(f for f in os.listdir(path) if f.endswith(".sql")):
            with open(os.path.join(path, name)) as handle:
                out.write(handle.read() + "\n")
    return _timed(_psql(cluster, dbname) + ["-f", combined])


# dbmate ---------------------------------------------------------------------------------
def dbmate_binary():
    path = os.path.join(PEERS, "node_modules", ".bin", "dbmate")
    return path if os.path.exists(path) else None


def run_dbmate(cluster, dbname, files, work):
    directory = os.path.join(work, "dbmate_%s" % dbname)
    os.makedirs(directory)
    for i, (_version, up, down) in enumerate(files, start=1):
        with open(os.path.join(directory, "20250101%06d_bench_%04d.sql" % (i, i)), "w") as handle:
            handle.write("-- migrate:up\n%s\n-- migrate:down\n%s" % (up, down))
    url = "postgres://postgres@localhost:%d/%s?socket=%s&sslmode=disable" % (cluster.port, dbname, cluster.socket_dir)
    argv = [dbmate_binary(), "--url", url, "--migrations-dir", directory, "--no-dump-schema", "up"]
    return _timed(argv), _timed(argv)


# sqitch ---------------------------------------------------------------------------------
def run_sqitch(cluster, dbname, files, work):
    directory = os.path.join(work, "sqitch_%s" % dbname)
    for sub in ("deploy", "revert", "verify"):
        os.makedirs(os.path.join(directory, sub))
    with open(os.path.join(directory, "sqitch.conf"), "w") as handle:
        handle.write("[core]\n\tengine = pg\n[engine \"pg\"]\n\tclient = %s\n" % os.path.join(cluster.bindir, "psql"))
    with open(os.path.join(directory, "sqitch.plan"), "w") as plan:
        plan.write("%syntax-version=1.0.0\n%project=bench\n\n")
        for i, (_version, up, down) in enumerate(files, start=1):
            name = "bench_%04d" % i
            plan.write("%s 2025-01-01T00:00:00Z Bench <bench@example.invalid> # benchmark change %d\n" % (name, i))
            for sub, body in (("deploy", up), ("revert", down)):
                with open(os.path.join(directory, sub, name + ".sql"), "w") as handle:
                    handle.write("BEGIN;\n%sCOMMIT;\n" % body)
    target = "db:pg://postgres@/%s?host=%s&port=%d" % (dbname, cluster.socket_dir, cluster.port)
    env = dict(os.environ, SQITCH_FULLNAME="Bench", SQITCH_EMAIL="bench@example.invalid")
    argv = ["sqitch", "--chdir", directory, "deploy", "--target", target]
    return _timed(argv, env=env), _timed(argv, env=env)


# yoyo -----------------------------------------------------------------------------------
def yoyo_binary():
    path = os.path.join(PEERS, "yoyo", "bin", "yoyo")
    return path if os.path.exists(path) else None


def run_yoyo(cluster, dbname, files, work):
    directory = os.path.join(work, "yoyo_%s" % dbname)
    os.makedirs(directory)
    for i, (_version, up, down) in enumerate(files, start=1):
        with open(os.path.join(directory, "%04d_bench.sql" % i), "w") as handle:
            handle.write(up)
        with open(os.path.join(directory, "%04d_bench.rollback.sql" % i), "w") as handle:
            handle.write(down)
    url = "postgresql://postgres@/%s?host=%s&port=%d" % (dbname, cluster.socket_dir, cluster.port)
    argv = [yoyo_binary(), "apply", "--batch", "--no-config-file", "--database", url, directory]
    return _timed(argv), _timed(argv)


def available(tool):
    if tool == "dbmate":
        return dbmate_binary() is not None
    if tool == "sqitch":
        return shutil.which("sqitch") is not None
    if tool == "yoyo":
        return yoyo_binary() is not None
    return True


def table_count(cluster, dbname):
    return int(cluster.psql("SELECT count(*) FROM pg_tables WHERE tablename LIKE 'bench_%'", dbname=dbname).strip())


def measure_once(cluster, n, tools, work, path, files):
    row = {"n": n}
    for tool in tools:
        dbname = "%s_%d" % (tool, n)
        cluster.create_database(dbname)
        if tool == "pg_migrate":
            wall, own, applied = run_pg_migrate(cluster, dbname, path)
            assert applied == n, (applied, n)
            noop_wall, noop_own, noop_applied = run_pg_migrate(cluster, dbname, path)
            assert noop_applied == 0
            row.update(pg_migrate_s=wall, pg_migrate_own_s=own, pg_migrate_noop_s=noop_wall,
                       pg_migrate_noop_own_s=noop_own)
        elif tool == "psql_loop":
            row["psql_loop_s"] = run_psql_loop(cluster, dbname, path)
        elif tool == "psql_single":
            row["psql_single_s"] = run_psql_single(cluster, dbname, path, work)
        else:
            runner = {"dbmate": run_dbmate, "sqitch": run_sqitch, "yoyo": run_yoyo}[tool]
            wall, noop = runner(cluster, dbname, files, work)
            row["%s_s" % tool] = wall
            row["%s_noop_s" % tool] = noop
        assert table_count(cluster, dbname) == n, (tool, n)  # every tool applied every file
        cluster.drop_database(dbname)
    return row


def measure(cluster, n, tools, work, repeat=1):
    """``repeat`` rounds of every tool in turn; each figure is the median of its rounds (the
    rounds themselves are kept under ``samples``), each ratio the median's to the floor's."""
    path = os.path.join(work, "m%d" % n, "migrations")
    files = generate(path, n)
    rounds = []
    for k in range(repeat):
        round_dir = os.path.join(work, "m%d" % n, "round%d" % k)  # each peer's own project files
        os.makedirs(round_dir)
        rounds.append(measure_once(cluster, n, tools, round_dir, path, files))
    row = {"n": n, "repeat": repeat}
    keys = [k for k in rounds[0] if k.endswith("_s")]
    for key in keys:
        row[key] = round(statistics.median(r[key] for r in rounds), 3)
    if repeat > 1:
        row["samples"] = {key: [round(r[key], 3) for r in rounds] for key in keys}
    floor = row.get("psql_single_s")
    if floor:
        for tool in tools:
            if "%s_s" % tool in row:
                row["%s_ratio" % tool] = round(row["%s_s" % tool] / floor, 2)
    return row


def chart(rows, tools, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no chart")
        return False
    fig, ax = plt.subplots(figsize=(9, 4.8))
    series = [(t, t.replace("_", " ")) for t in tools]
    if "pg_migrate" in tools:
        series.insert(1, ("pg_migrate_own", "pg_migrate, module own time"))
    width = 0.8 / len(series)
    for k, (key, label) in enumerate(series):
        values = [r.get("%s_s" % key) or 0 for r in rows]
        ax.bar([i + k * width for i in range(len(rows))], values, width, label=label,
               hatch="//" if key == "pg_migrate_own" else None)
    ax.set_xticks([i + width * (len(series) - 1) / 2 for i in range(len(rows))])
    ax.set_xticklabels(["%d files" % r["n"] for r in rows])
    ax.set_yscale("log")
    ax.set_ylabel("seconds to apply, log scale (lower is better)")
    ax.set_title("Applying N migrations on a fresh database (one server, one run)")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--tools", default=",".join(TOOLS))
    parser.add_argument("--engine", default=pg_cluster.default_engine())
    parser.add_argument("--repeat", type=int, default=3, help="rounds per size; figures are medians (default 3)")
    parser.add_argument("--output", default=os.path.join(HERE, "results", "migrate.json"))
    parser.add_argument("--chart", default=os.path.join(REPO, "docs", "benchmarks_migrate.png"))
    parser.add_argument("--chart-only", action="store_true", help="redraw the chart from --output, run nothing")
    args = parser.parse_args()
    if args.chart_only:
        with open(args.output) as handle:
            report = json.load(handle)
        chart(report["results"], report["tools"], args.chart)
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    wanted = [t for t in args.tools.split(",") if t]
    tools = [t for t in wanted if available(t)]
    skipped = [t for t in wanted if t not in tools]
    if skipped:
        print("not installed (bash bench/install_peers.sh): %s" % ", ".join(skipped))

    work = tempfile.mkdtemp(prefix="sensa-bench-migrate-")
    cluster = pg_cluster.Cluster(os.path.join(work, "cluster"), engine=args.engine)
    cluster.init()
    cluster.start()
    rows = []
    load = []
    try:
        version = cluster.server_version()
        for n in sizes:
            load.append(os.getloadavg()[0])
            rows.append(measure(cluster, n, tools, work, args.repeat))
            print(json.dumps(rows[-1]), flush=True)
    finally:
        cluster.destroy()
        shutil.rmtree(work, ignore_errors=True)
    report = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "load_average_at_each_size": [round(x, 2) for x in load]},
        "engine": args.engine, "server_version": version, "tools": tools, "skipped": skipped, "results": rows,
        "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
    }
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "w") as handle:
        json.dump(report, handle, indent=2)
    if args.chart:
        chart(rows, tools, args.chart)
    print("\n| N | " + " | ".join("%s (s)" % t for t in tools) + " |")
    print("|---|" + "---|" * len(tools))
    for r in rows:
        print("| %d | " % r["n"] + " | ".join("%.2f (%.2fx)" % (r.get(t + "_s", 0), r.get(t + "_ratio", 0))
                                              for t in tools) + " |")


if __name__ == "__main__":
    main()
