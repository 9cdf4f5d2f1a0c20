"""The file backend of secret_store: Secrets Manager's version/label model, 0600, atomic replace."""

import json
import os
import stat
import threading

import pytest

from ansible_collections.sensa.infra.plugins.module_utils import secret_store as ss

VALUE = {"engine": "postgres", "host": "127.0.0.1", "port": 5432, "dbname": "sensa", "username": "sensa_app_a"}


def with_pw(value, pw):
    out = dict(value)
    out["password"] = pw
    return out


@pytest.fixture
def store(tmp_path):
    return ss.FileSecretStore(str(tmp_path / "secrets" / "local" / "app.json"))


def labels(store):
    return {vid: sorted(info["stages"]) for vid, info in store.describe().items()}


def test_missing_secret(store):
    assert store.describe() is None
    status = store.status()
    assert status["exists"] is False and status["rotation_in_progress"] is False
    assert store.get() == (None, None)
    with pytest.raises(ss.SecretStoreError, match="no AWSCURRENT"):
        store.put_pending(with_pw(VALUE, "x" * 20))


def test_bootstrap_mode_and_permissions(store):
    changed, v1 = store.ensure_current(with_pw(VALUE, "first-password-123"))
    assert changed and v1
    assert store.ensure_current(with_pw(VALUE, "other")) == (False, v1)
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(store.path)).st_mode) == 0o700
    assert store.get() == (v1, with_pw(VALUE, "first-password-123"))
    # no temp files left behind by the atomic replace
    assert sorted(os.listdir(os.path.dirname(store.path))) == ["app.json", "app.json.lock"]


def test_labels_move_as_in_secrets_manager(store):
    _created, v1 = store.ensure_current(with_pw(VALUE, "p1-aaaaaaaaaaaaaaaa"))
    b = dict(VALUE, username="sensa_app_b")
    changed, v2 = store.put_pending(with_pw(b, "p2-bbbbbbbbbbbbbbbb"))
    assert changed and labels(store) == {v1: ["AWSCURRENT"], v2: ["AWSPENDING"]}
    st = store.status()
    assert st["rotation_in_progress"] and st["pending_version_id"] == v2 and st["current_version_id"] == v1
    # same pending value again: no new version
    assert store.put_pending(with_pw(b, "p2-bbbbbbbbbbbbbbbb")) == (False, v2)
    # a different pending value while a rotation is in progress is refused
    with pytest.raises(ss.SecretStoreError, match="rotation is in progress"):
        store.put_pending(with_pw(b, "p3-cccccccccccccccc"))
    assert store.promote() == (True, v2)
    assert labels(store) == {v1: ["AWSPREVIOUS"], v2: ["AWSCURRENT"]}
    assert store.status()["rotation_in_progress"] is False
    assert store.promote() == (False, v2)  # nothing pending
    assert store.promote(v2) == (False, v2)
    # second rotation: the oldest version loses its last label and is dropped
    _created, v3 = store.put_pending(with_pw(VALUE, "p3-cccccccccccccccc"))
    store.promote(v3)
    assert labels(store) == {v2: ["AWSPREVIOUS"], v3: ["AWSCURRENT"]}
    assert store.get(ss.STAGE_PREVIOUS)[1]["username"] == "sensa_app_b"


def test_overwrite_and_discard_pending(store):
    store.ensure_current(with_pw(VALUE, "p1-aaaaaaaaaaaaaaaa"))
    _created, v2 = store.put_pending(with_pw(VALUE, "p2-bbbbbbbbbbbbbbbb"))
    changed, v3 = store.put_pending(with_pw(VALUE, "p3-cccccccccccccccc"), overwrite=True)
    assert changed and v3 != v2 and v2 not in labels(store)
    assert store.discard_pending() == (True, v3)
    assert store.status()["pending_version_id"] is None
    assert store.discard_pending() == (False, None)


def test_interrupted_promote_is_finished(store):
    """Crash between moving AWSCURRENT and removing AWSPENDING: promote() completes it."""
    _created, v1 = store.ensure_current(with_pw(VALUE, "p1-aaaaaaaaaaaaaaaa"))
    _created, v2 = store.put_pending(with_pw(VALUE, "p2-bbbbbbbbbbbbbbbb"))
    store.update_stage(ss.STAGE_CURRENT, move_to=v2, remove_from=v1)
    assert labels(store) == {v1: ["AWSPREVIOUS"], v2: ["AWSCURRENT", "AWSPENDING"]}
    assert store.status()["rotation_in_progress"] is False
    assert store.promote() == (True, v2)
    assert labels(store) == {v1: ["AWSPREVIOUS"], v2: ["AWSCURRENT"]}


def test_update_stage_requires_explicit_remove(store):
    _created, v1 = store.ensure_current(with_pw(VALUE, "p1-aaaaaaaaaaaaaaaa"))
    _created, v2 = store.put_pending(with_pw(VALUE, "p2-bbbbbbbbbbbbbbbb"))
    with pytest.raises(ss.SecretStoreError, match="name it in remove_from"):
        store.update_stage(ss.STAGE_CURRENT, move_to=v2)
    with pytest.raises(ss.SecretStoreError, match="no version"):
        store.promote("nope")


def test_check_mode_writes_nothing(store):
    assert store.ensure_current(with_pw(VALUE, "p"), check_mode=True) == (True, None)
    assert not os.path.exists(store.path)
    _created, v1 = store.ensure_current(with_pw(VALUE, "p1-aaaaaaaaaaaaaaaa"))
    before = open(store.path).read()
    assert store.put_pending(with_pw(VALUE, "p2"), check_mode=True) == (True, None)
    assert open(store.path).read() == before


def test_file_format_and_corruption(store):
    store.ensure_current(with_pw(VALUE, "p1-aaaaaaaaaaaaaaaa"))
    data = json.load(open(store.path))
    assert data["format"] == ss.FILE_FORMAT
    with open(store.path, "w") as handle:
        handle.write("{not json")
    with pytest.raises(ss.SecretStoreError, match="not valid JSON") as err:
        store.status()
    assert "p1-aaaa" not in str(err.value)


def test_concurrent_writers_do_not_lose_updates(tmp_path):
    path = str(tmp_path / "app.json")
    ss.FileSecretStore(path).ensure_current(with_pw(VALUE, "p1-aaaaaaaaaaaaaaaa"))
    errors = []

    def worker(i):
        try:
            ss.FileSecretStore(path).put_pending(with_pw(VALUE, "p-%02d-xxxxxxxxxxxxxx" % i), overwrite=True)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    st = ss.FileSecretStore(path).status()
    assert len(st["versions"]) == 2 and st["rotation_in_progress"]


def test_a_writer_cannot_drop_the_version_another_is_deciding_on(tmp_path, monkeypatch):
    """put_pending reads the pending version, decides, then writes: a second writer finishing
    in between replaced that version (and the file store drops a version without labels), so
    the read failed with "has no version". The second writer is started exactly inside the
    first one's read; the whole operation must hold the store's lock, so the second waits."""
    path = str(tmp_path / "app.json")
    ss.FileSecretStore(path).ensure_current(with_pw(VALUE, "p1-aaaaaaaaaaaaaaaa"))
    ss.FileSecretStore(path).put_pending(with_pw(VALUE, "p-first-xxxxxxxxxxxx"))
    real_read = ss.FileSecretStore.read_version
    errors = []
    second_done = threading.Event()

    def write(i):
        try:
            ss.FileSecretStore(path).put_pending(with_pw(VALUE, "p-%02d-xxxxxxxxxxxxxx" % i), overwrite=True)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            if i == 2:
                second_done.set()

    second = threading.Thread(target=write, args=(2,))

    def read_while_another_writes(self, version_id):
        if threading.current_thread() is not second and second.ident is None:
            second.start()
            second_done.wait(1.0)  # under the lock the second writer cannot finish: this times out
        return real_read(self, version_id)

    monkeypatch.setattr(ss.FileSecretStore, "read_version", read_while_another_writes)
    write(1)
    second.join()
    assert not errors
    st = ss.FileSecretStore(path).status()
    assert len(st["versions"]) == 2 and st["rotation_in_progress"]


def test_generate_password():
    pw = ss.generate_password(40)
    assert len(pw) == 40 and set(pw) <= set(ss.URI_SAFE_ALPHABET)
    assert ss.generate_password() != ss.generate_password()
    with pytest.raises(ss.SecretStoreError, match="break connection URIs"):
        ss.generate_password(32, ss.URI_SAFE_ALPHABET + "@/:")
    with pytest.raises(ss.SecretStoreError, match="minimum"):
        ss.generate_password(8)
    with pytest.raises(ss.SecretStoreError, match="at least 16"):
        ss.generate_password(32, "abc")


def test_public_fields_drop_password():
    assert ss.public_fields(with_pw(VALUE, "secret")) == VALUE
    assert ss.public_fields(None) == {}
