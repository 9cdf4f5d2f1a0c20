"""The README's first command: site.yml on the local inventory, twice, then the stop playbook."""

import os
import shutil
import tempfile

from ansible_collections.sensa.infra.plugins.module_utils.pg_cluster import Cluster
from support.ansible_run import run_playbook


def test_site_yml_local_twice_then_stop(pg_engine):
    state = tempfile.mkdtemp(prefix="sensa-local-")
    extra = {"sensa_local_dir": state, "local_postgres_engine": pg_engine}
    try:
        first = run_playbook("site.yml", inventory="inventories/local", extra_vars=extra)
        assert first.returncode == 0, first
        assert "schema_version" in first.stdout and "vector 0." in first.stdout and "pg_trgm" in first.stdout
        assert "server: PostgreSQL" in first.stdout
        second = run_playbook("site.yml", inventory="inventories/local", extra_vars=extra)
        assert second.returncode == 0 and second.changed() == 0, second
        # Output a person reads (issue 15): a clean run warns about nothing (no unmatched host
        # pattern, no optional extension) and reports no loop item as skipped more than once.
        for run in (first, second):
            assert "[WARNING]" not in run.output, run
            skipped_items = [line for line in run.stdout.splitlines() if line.startswith("skipping:") and "(item=" in line]
            assert len(skipped_items) == len(set(skipped_items)), skipped_items
        if pg_engine == "embedded":  # no uuid-ossp there: the summary says so instead of a warning
            assert "uuid-ossp: not available on this server (optional, skipped)" in second.stdout
        cluster = Cluster(os.path.join(state, "pg", "local"))
        assert cluster.running()
        stop = run_playbook("playbooks/local_stop.yml", inventory="inventories/local", extra_vars=extra)
        assert stop.returncode == 0 and stop.changed() == 1, stop
        assert not cluster.running()
    finally:
        Cluster(os.path.join(state, "pg", "local")).stop() if os.path.isdir(os.path.join(state, "pg", "local")) else None
        shutil.rmtree(state, ignore_errors=True)
