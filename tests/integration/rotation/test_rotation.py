"""The rotation playbook against a real PostgreSQL, with the file store and with moto as Secrets Manager."""

import time

import pytest
from rotation_helpers import dump


def test_bootstrap_then_rotate_twice(rotation):
    """Bootstrap creates the secret for sensa_app_a; each forced rotation alternates users; labels move as in AWS."""
    first = rotation.run()
    assert first.returncode == 0, first
    current = rotation.secret()
    assert current["username"] == "sensa_app_a" and rotation.can_login(current)
    assert set(current) == {"engine", "host", "port", "dbname", "username", "password"}
    (v1,) = rotation.labels()
    assert rotation.labels() == {v1: ["AWSCURRENT"]}
    assert "app: secret created (bootstrap); current user sensa_app_a; store %s" % rotation.backend in summary(first)

    again = rotation.run()
    assert again.returncode == 0 and again.changed() == 0, again  # not due: nothing to do
    assert "app: not due, unchanged; current user sensa_app_a;" in summary(again)

    second = rotation.run(pg_rotation_force=True, pg_rotation_grace_seconds=600)
    assert second.returncode == 0, second
    new = rotation.secret()
    labels = rotation.labels()
    v2 = [v for v, stages in labels.items() if stages == ["AWSCURRENT"]][0]
    assert labels == {v1: ["AWSPREVIOUS"], v2: ["AWSCURRENT"]}, dump(labels)
    assert new["username"] == "sensa_app_b" and rotation.can_login(new)
    assert rotation.secret("AWSPREVIOUS") == current
    assert rotation.can_login(current), "the previous user keeps working during the grace period"
    assert len(new["password"]) == 32 and new["password"] != current["password"]
    # The summary names the user now current and when the previous one stops working (VALID UNTIL).
    valid_until = rotation.db.scalar("SELECT rolvaliduntil::text FROM pg_roles WHERE rolname = 'sensa_app_a'")
    assert ("app: rotated; current user sensa_app_b; previous user sensa_app_a works until %s;" % valid_until
            in summary(second)), second
    assert new["password"] not in second.output

    # sensa_app_a's old password was promised 600 s: a third rotation now would cut that short,
    # so it is refused, naming the user and the time, and changes nothing.
    refused = rotation.run(pg_rotation_force=True)
    assert refused.returncode != 0, refused
    assert "previous password of sensa_app_a was promised to keep working until" in refused.output, refused
    assert rotation.labels() == labels and rotation.can_login(current)
    # Once the grace period is over (stood in for by moving VALID UNTIL to now), it rotates.
    rotation.db.psql("ALTER ROLE sensa_app_a VALID UNTIL 'now'")
    third = rotation.run(pg_rotation_force=True)
    assert third.returncode == 0, third
    labels = rotation.labels()
    assert len(labels) == 2 and sorted(labels.values()) == [["AWSCURRENT"], ["AWSPREVIOUS"]]
    back = rotation.secret()
    assert back["username"] == "sensa_app_a" and back["password"] != current["password"]
    assert rotation.can_login(back) and rotation.can_login(new)
    assert not rotation.can_login(current), "the old password of sensa_app_a is gone"


def summary(result):
    """The rotation summary printed at the end of the playbook, on one line per credential."""
    assert "Summarise the rotation" in result.stdout, result
    return " ".join(result.stdout.split("Summarise the rotation", 1)[1].split())


def test_grace_period_then_expiry(file_rotation):
    """The previous user works during the grace period (VALID UNTIL) and not after it."""
    r = file_rotation
    assert r.run().returncode == 0
    old = r.secret()
    res = r.run(pg_rotation_force=True, pg_rotation_grace_seconds=6)
    assert res.returncode == 0, res
    assert r.can_login(old), "old user must work during the grace period"
    valid_until = r.db.scalar("SELECT rolvaliduntil > now() FROM pg_roles WHERE rolname = 'sensa_app_a'")
    assert valid_until is True
    # a re-run does not push the expiry further out (keep_earlier) and changes nothing
    rerun = r.run(pg_rotation_grace_seconds=6)
    assert rerun.returncode == 0 and rerun.changed() == 0, rerun
    time.sleep(7)
    assert not r.can_login(old), "old user must be refused after the grace period"
    assert r.can_login(r.secret())


def test_null_password_expiry(file_rotation):
    r = file_rotation
    assert r.run().returncode == 0
    old = r.secret()
    res = r.run(pg_rotation_force=True, pg_rotation_expire_method="null_password", pg_rotation_grace_seconds=1)
    assert res.returncode == 0, res
    assert r.db.scalar("SELECT rolpassword IS NULL FROM pg_authid WHERE rolname = 'sensa_app_a'") is True
    assert "previous user sensa_app_a password removed after the 1 s grace period" in summary(res)
    assert not r.can_login(old) and r.can_login(r.secret())


# The task of rotate.yml after which each crash test kills the controller.
CRASH_POINTS = {
    3: "Step 3 - store a new generated password",
    4: "Step 4 - set the pending password on the server",
    5: "Step 5 - log in as the new user",
    6: "Step 6 - promote the pending version",
}


@pytest.mark.parametrize("step", sorted(CRASH_POINTS))
def test_crash_after_step_then_rerun_converges(file_rotation, step):
    """A run killed right after step N leaves a state that the next run finishes, without a second rotation."""
    r = file_rotation
    assert r.run().returncode == 0
    old = r.secret()
    crashed = r.run(pg_rotation_force=True, crash_after=CRASH_POINTS[step])
    assert crashed.returncode == -9, crashed  # SIGKILL: nothing after the step ran, not even "always"
    assert "FAULT INJECTED: killed after task '%s" % CRASH_POINTS[step] in crashed.stdout, crashed
    status = r.store.status()
    if step < 6:
        assert status["rotation_in_progress"], "the pending version survives the crash"
        assert r.secret() == old
    assert r.can_login(old), "the current credentials keep working whatever the cut point"
    # re-run WITHOUT force: the rotation in progress is detected and finished, not started again
    rerun = r.run()
    assert rerun.returncode == 0, rerun
    new = r.secret()
    assert new["username"] == "sensa_app_b" and r.can_login(new)
    labels = r.labels()
    assert sorted(labels.values()) == [["AWSCURRENT"], ["AWSPREVIOUS"]], dump(labels)
    assert r.secret("AWSPREVIOUS") == old
    final = r.run()
    assert final.returncode == 0 and final.changed() == 0, final


def test_crash_with_partial_steps_through_modules(file_rotation):
    """Kill between put_pending and ALTER ROLE, simulated by doing step 3 by hand: the run finishes it."""
    r = file_rotation
    assert r.run().returncode == 0
    old = r.secret()
    pending = dict(old, username="sensa_app_b", password="HandStaged-0123456789abcdefXYZ")
    r.store.put_pending(pending)
    assert not r.can_login(pending)
    assert r.run().returncode == 0
    assert r.secret() == pending and r.can_login(pending)


def test_check_mode_changes_nothing(file_rotation):
    r = file_rotation
    res = r.run(check=True)
    assert res.returncode == 0, res
    assert "app: secret would be created (bootstrap); current user sensa_app_a" in summary(res)
    assert r.store.describe() is None
    assert r.run().returncode == 0
    before = r.labels()
    res = r.run(check=True, pg_rotation_force=True)
    assert res.returncode == 0 and res.changed() > 0, res
    assert "app: would rotate; current user sensa_app_b; previous user sensa_app_a" in summary(res)
    assert r.labels() == before


def test_single_user_strategy(file_rotation):
    r = file_rotation
    single = [{"role": "sensa_report"}]
    assert r.run(pg_rotation_single_user_roles=single).returncode == 0
    from ansible_collections.sensa.infra.plugins.module_utils.secret_store import FileSecretStore

    store = FileSecretStore(str(r.tmp_path / "secrets" / "sensa_report.json"))
    first = store.get()[1]
    assert first["username"] == "sensa_report" and r.can_login_plain(first)
    res = r.run(pg_rotation_single_user_roles=single, pg_rotation_force=True)
    assert res.returncode == 0, res
    second = store.get()[1]
    assert second["username"] == "sensa_report" and second["password"] != first["password"]
    assert "sensa_report: rotated; current user sensa_report; store file" in summary(res)
    assert r.can_login_plain(second) and not r.can_login_plain(first)
