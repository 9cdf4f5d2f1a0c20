"""The README's first command: site.yml on the local inventory, twice, then the stop playbook."""

import os
import shutil
import tempfile

from ansible_collections.sensa.infra.plugins.module_utils.pg_cluster import Cluster
from support.ansible_run import run_playbook
from support.collection import REPO_ROOT


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


def test_site_yml_refuses_a_relative_local_dir(pg_engine):
    """`-e sensa_local_dir=<relative>` is refused by the first task with what to pass instead, and
    nothing is created. Before, the cluster landed relative to each play's own directory (site.yml
    imports playbooks/*.yml, so ../x went one level higher than meant) and libpq then read the
    relative socket directory as a host name ("could not translate host name")."""
    state = tempfile.mkdtemp(prefix="sensa-rel-")
    shutil.rmtree(state)
    relative = os.path.relpath(state, REPO_ROOT)
    assert not os.path.isabs(relative)
    run = run_playbook("site.yml", inventory="inventories/local",
                       extra_vars={"sensa_local_dir": relative, "local_postgres_engine": pg_engine})
    assert run.returncode != 0
    assert "path must be absolute, got '%s/pg/local'" % relative in run.output, run
    assert "-e sensa_local_dir=$PWD/%s" % relative in run.output, run
    assert "translate host name" not in run.output, run
    for play_dir in (REPO_ROOT, os.path.join(REPO_ROOT, "playbooks")):
        assert not os.path.exists(os.path.normpath(os.path.join(play_dir, relative))), play_dir
