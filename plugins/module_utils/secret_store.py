# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Sensa Learn platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Versioned database-credential secrets behind one interface, with AWS staging labels.

Two backends behave alike:

* ``SecretsManagerStore``: AWS Secrets Manager through a boto3 client (the db_secret module
  passes amazon.aws's; without one, region, profile, endpoint_url and explicit credentials
  are honoured and boto3's own chain otherwise).
* ``FileSecretStore``: one JSON file (mode 0600 in a 0700 directory) for the local
  inventory, replaced atomically (temp file in the same directory, fsync, os.replace)
  under an advisory lock, keeping versions and the same staging labels.

Staging labels follow Secrets Manager exactly, as its rotation functions use them:

* ``put_pending`` = ``PutSecretValue(VersionStages=['AWSPENDING'])``: the label moves to
  the new version (it is unique within a secret);
* ``promote`` = ``UpdateSecretVersionStage('AWSCURRENT', MoveToVersionId=new,
  RemoveFromVersionId=old)``: Secrets Manager then puts ``AWSPREVIOUS`` on the old
  version by itself; finally ``AWSPENDING`` is removed from the promoted version so
  "a rotation is in progress" means exactly "AWSPENDING exists on a version that is not
  AWSCURRENT";
* a version left with no label is deprecated (Secrets Manager keeps it for a while; the
  file backend drops it).

Secret values are JSON objects in the format of Secrets Manager's PostgreSQL rotation
templates: ``engine, host, port, dbname, username, password``. Nothing in this file logs
or formats a secret value into a message.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import datetime
import functools
import json
import os
import secrets
import string
import tempfile
import uuid

try:
    import fcntl

    HAS_FCNTL = True
except ImportError:  # pragma: no cover - not POSIX
    HAS_FCNTL = False

STAGE_CURRENT = "AWSCURRENT"
STAGE_PENDING = "AWSPENDING"
STAGE_PREVIOUS = "AWSPREVIOUS"
STAGES = (STAGE_CURRENT, STAGE_PENDING, STAGE_PREVIOUS)

# Keys of a secret value that are never returned unless explicitly asked for.
SECRET_KEYS = ("password",)

# RFC 3986 "unreserved" characters: safe in a postgresql:// URI, a libpq keyword string,
# a shell word and a JSON string without any quoting or escaping.
URI_SAFE_ALPHABET = string.ascii_letters + string.digits + "-._~"
MIN_PASSWORD_LENGTH = 16
FILE_FORMAT = "sensa.infra/secret-file/v1"


class SecretStoreError(Exception):
    """A store operation failed; the message names the operation and the secret, never a value.

    ``aws_error`` is the botocore exception behind it, if any, and ``doing`` the operation and
    secret without that error's text, so an AnsibleAWSModule can report it through fail_json_aws."""

    def __init__(self, message, aws_error=None, doing=None):
        super(SecretStoreError, self).__init__(message)
        self.aws_error = aws_error
        self.doing = doing or message


def generate_password(length=32, alphabet=URI_SAFE_ALPHABET):
    """A password from the OS CSPRNG; refuses alphabets that would break connection URIs."""
    if length < MIN_PASSWORD_LENGTH:
        raise SecretStoreError("password length %d is below the minimum of %d" % (length, MIN_PASSWORD_LENGTH))
    alphabet = "".join(sorted(set(alphabet)))
    unsafe = sorted(set(alphabet) - set(URI_SAFE_ALPHABET))
    if unsafe:
        raise SecretStoreError(
            "password alphabet contains characters that break connection URIs or need quoting: %s; "
            "use only letters, digits and '-._~'" % " ".join(repr(c) for c in unsafe)
        )
    if len(alphabet) < 16:
        raise SecretStoreError("password alphabet has %d distinct characters; use at least 16" % len(alphabet))
    return "".join(secrets.choice(alphabet) for dummy in range(length))


def public_fields(value):
    """The secret value without its secret keys (safe to return and print)."""
    return dict((k, v) for k, v in (value or {}).items() if k not in SECRET_KEYS)


def _now_iso():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _iso(value):
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        return value.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def _decode(text, where):
    try:
        value = json.loads(text)
    except ValueError:
        raise SecretStoreError("%s does not hold a JSON object" % where)
    if not isinstance(value, dict):
        raise SecretStoreError("%s does not hold a JSON object" % where)
    return value


def _one_writer(method):
    """Run a shared operation's whole read-decide-write inside the backend's exclusive section,
    so a concurrent writer cannot change (or drop) a version between the read and the write."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self._exclusive():
            return method(self, *args, **kwargs)
    return wrapper


class SecretStore(object):
    """The interface. Backends implement the five primitives below; the rest is shared."""

    location = "(secret)"

    def _exclusive(self):
        """A section no other writer of this secret enters; none by default (Secrets Manager
        has no lock to take)."""
        return contextlib.nullcontext()

    # primitives -------------------------------------------------------------------
    def describe(self):
        """{version_id: {"stages": [...], "created": iso8601}} or None when the secret does not exist."""
        raise NotImplementedError

    def read_version(self, version_id):
        """The value (dict) of one version."""
        raise NotImplementedError

    def create(self, value, version_id):
        """Create the secret with one version labelled AWSCURRENT."""
        raise NotImplementedError

    def put_version(self, value, version_id, stages):
        """Add a version with ``stages``; labels move from other versions as in PutSecretValue."""
        raise NotImplementedError

    def update_stage(self, stage, move_to=None, remove_from=None):
        """UpdateSecretVersionStage semantics, including the automatic AWSPREVIOUS."""
        raise NotImplementedError

    # shared operations ------------------------------------------------------------
    def status(self):
        versions = self.describe()
        result = dict(
            exists=versions is not None,
            location=self.location,
            versions=[],
            current_version_id=None,
            pending_version_id=None,
            previous_version_id=None,
            current_created=None,
            rotation_in_progress=False,
        )
        for version_id, info in sorted((versions or {}).items(), key=lambda item: item[1].get("created") or ""):
            result["versions"].append(dict(version_id=version_id, stages=sorted(info["stages"]), created=info.get("created")))
            for stage, key in ((STAGE_CURRENT, "current_version_id"), (STAGE_PENDING, "pending_version_id"),
                               (STAGE_PREVIOUS, "previous_version_id")):
                if stage in info["stages"]:
                    result[key] = version_id
        if result["current_version_id"]:
            result["current_created"] = versions[result["current_version_id"]].get("created")
        result["rotation_in_progress"] = bool(
            result["pending_version_id"] and result["pending_version_id"] != result["current_version_id"]
        )
        return result

    def get(self, stage=STAGE_CURRENT, version_id=None):
        """(version_id, value) for a stage or a version id, or (None, None) when absent."""
        versions = self.describe()
        if versions is None:
            return None, None
        if version_id is None:
            for candidate, info in versions.items():
                if stage in info["stages"]:
                    version_id = candidate
                    break
        if version_id is None or version_id not in versions:
            return None, None
        return version_id, self.read_version(version_id)

    @_one_writer
    def ensure_current(self, value, check_mode=False):
        """Bootstrap: create the secret with ``value`` as AWSCURRENT unless it has a current version.

        Returns (changed, version_id).
        """
        versions = self.describe()
        if versions is not None:
            for version_id, info in versions.items():
                if STAGE_CURRENT in info["stages"]:
                    return False, version_id
        version_id = str(uuid.uuid4())
        if check_mode:
            return True, None
        if versions is None:
            self.create(value, version_id)
        else:
            self.put_version(value, version_id, [STAGE_CURRENT])
        return True, version_id

    @_one_writer
    def put_pending(self, value, overwrite=False, check_mode=False):
        """Store ``value`` as the AWSPENDING version. Returns (changed, version_id).

        An identical pending value is left alone (changed=False). A different pending
        value means a rotation is in progress: refused unless ``overwrite``.
        """
        status = self.status()
        if not status["exists"] or not status["current_version_id"]:
            raise SecretStoreError(
                "%s has no AWSCURRENT version; create it first (operation ensure_current)" % self.location
            )
        if status["rotation_in_progress"]:
            pending_id = status["pending_version_id"]
            if self.read_version(pending_id) == value:
                return False, pending_id
            if not overwrite:
                raise SecretStoreError(
                    "%s already has a pending version %s (a rotation is in progress); finish it "
                    "(promote) or discard it first, or set overwrite_pending" % (self.location, pending_id)
                )
        version_id = str(uuid.uuid4())
        if check_mode:
            return True, None
        self.put_version(value, version_id, [STAGE_PENDING])
        return True, version_id

    @_one_writer
    def promote(self, version_id=None, check_mode=False):
        """Make ``version_id`` (default: the AWSPENDING version) AWSCURRENT. Returns (changed, version_id)."""
        versions = self.describe()
        if versions is None:
            raise SecretStoreError("%s does not exist; nothing to promote" % self.location)
        current = pending = None
        for candidate, info in versions.items():
            if STAGE_CURRENT in info["stages"]:
                current = candidate
            if STAGE_PENDING in info["stages"]:
                pending = candidate
        target = version_id or pending
        if target is None:
            return False, current
        if target not in versions:
            raise SecretStoreError("%s has no version %s" % (self.location, target))
        changed = False
        if target != current:
            changed = True
            if not check_mode:
                self.update_stage(STAGE_CURRENT, move_to=target, remove_from=current)
        if pending == target:
            changed = True
            if not check_mode:
                self.update_stage(STAGE_PENDING, remove_from=target)
        return changed, target

    @_one_writer
    def discard_pending(self, check_mode=False):
        """Drop the AWSPENDING label from a version that is not current. Returns (changed, version_id)."""
        status = self.status()
        pending = status["pending_version_id"]
        if not pending:
            return False, None
        if not check_mode:
            self.update_stage(STAGE_PENDING, remove_from=pending)
        return True, pending


# ---------------------------------------------------------------------------------
class FileSecretStore(SecretStore):
    """A JSON file with Secrets Manager's version/label model (for inventories/local)."""

    def __init__(self, path, name=None):
        self.path = os.path.abspath(path)
        self.name = name or os.path.basename(self.path)
        self.location = "secret file %s" % self.path
        self._lock_depth = 0
        self._lock_handle = None

    # file handling ------------------------------------------------------------------
    def _load(self):
        try:
            with open(self.path) as handle:
                text = handle.read()
        except (IOError, OSError) as exc:
            if getattr(exc, "errno", None) == 2:
                return None
            raise SecretStoreError("cannot read %s: %s" % (self.location, exc.strerror or exc))
        try:
            data = json.loads(text)
        except ValueError:
            raise SecretStoreError("%s is not valid JSON; restore it from a backup or remove it to bootstrap" % self.location)
        if not isinstance(data, dict) or data.get("format") != FILE_FORMAT or not isinstance(data.get("versions"), dict):
            raise SecretStoreError("%s is not a %s file" % (self.location, FILE_FORMAT))
        return data

    def _save(self, data):
        # Drop versions without any label, as Secrets Manager deprecates them.
        data["versions"] = dict((k, v) for k, v in data["versions"].items() if v["stages"])
        directory = os.path.dirname(self.path)
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o700)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(self.path) + ".", suffix=".tmp")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w") as handle:
                json.dump(data, handle, indent=2, sort_keys=True)
                handle.write("\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except Exception:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def _locked(self):
        return _FileLock(self.path + ".lock", self)

    _exclusive = _locked

    # primitives --------------------------------------------------------------------
    def describe(self):
        data = self._load()
        if data is None:
            return None
        return dict((k, dict(stages=list(v["stages"]), created=v.get("created"))) for k, v in data["versions"].items())

    def read_version(self, version_id):
        data = self._load()
        if data is None or version_id not in data["versions"]:
            raise SecretStoreError("%s has no version %s" % (self.location, version_id))
        return _decode(data["versions"][version_id]["value"], "version %s of %s" % (version_id, self.location))

    def create(self, value, version_id):
        with self._locked():
            if self._load() is not None:
                raise SecretStoreError("%s already exists" % self.location)
            self._save(dict(format=FILE_FORMAT, name=self.name, versions={
                version_id: dict(created=_now_iso(), stages=[STAGE_CURRENT], value=json.dumps(value, sort_keys=True)),
            }))

    def put_version(self, value, version_id, stages):
        with self._locked():
            data = self._load()
            if data is None:
                raise SecretStoreError("%s does not exist" % self.location)
            encoded = json.dumps(value, sort_keys=True)
            existing = data["versions"].get(version_id)
            if existing is not None:
                if existing["value"] != encoded:
                    raise SecretStoreError("version %s of %s exists with a different value" % (version_id, self.location))
                return
            old_current = None
            for vid, info in data["versions"].items():
                if STAGE_CURRENT in stages and STAGE_CURRENT in info["stages"]:
                    old_current = vid
                info["stages"] = [s for s in info["stages"] if s not in stages]
            data["versions"][version_id] = dict(created=_now_iso(), stages=list(stages), value=encoded)
            if old_current:
                _label_previous(data["versions"], old_current)
            self._save(data)

    def update_stage(self, stage, move_to=None, remove_from=None):
        with self._locked():
            data = self._load()
            if data is None:
                raise SecretStoreError("%s does not exist" % self.location)
            versions = data["versions"]
            for vid in (move_to, remove_from):
                if vid is not None and vid not in versions:
                    raise SecretStoreError("%s has no version %s" % (self.location, vid))
            if remove_from is not None:
                if stage not in versions[remove_from]["stages"]:
                    raise SecretStoreError("label %s is not on version %s of %s" % (stage, remove_from, self.location))
                versions[remove_from]["stages"].remove(stage)
            if move_to is not None:
                holders = [vid for vid, info in versions.items() if stage in info["stages"] and vid != move_to]
                if holders:
                    # Secrets Manager refuses too: the label must be removed from its holder explicitly.
                    raise SecretStoreError("label %s is on version %s of %s; name it in remove_from" % (stage, holders[0], self.location))
                if stage not in versions[move_to]["stages"]:
                    versions[move_to]["stages"].append(stage)
            if stage == STAGE_CURRENT and remove_from is not None and move_to is not None:
                _label_previous(versions, remove_from)
                if STAGE_PREVIOUS in versions[move_to]["stages"]:
                    versions[move_to]["stages"].remove(STAGE_PREVIOUS)
            self._save(data)


def _label_previous(versions, version_id):
    for info in versions.values():
        if STAGE_PREVIOUS in info["stages"]:
            info["stages"].remove(STAGE_PREVIOUS)
    versions[version_id]["stages"].append(STAGE_PREVIOUS)


class _FileLock(object):
    """An exclusive flock on a side file, so two runs never interleave read-modify-write.

    Re-entrant per store: a shared operation holds it across its reads and the primitive
    writes inside it (a second flock of the same file from this process would wait forever)."""

    def __init__(self, path, store):
        self.path = path
        self.store = store

    def __enter__(self):
        if self.store._lock_depth:
            self.store._lock_depth += 1
            return self
        directory = os.path.dirname(self.path)
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o700)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        handle = os.fdopen(fd, "r+")
        if HAS_FCNTL:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        self.store._lock_handle = handle
        self.store._lock_depth = 1
        return self

    def __exit__(self, *exc):
        self.store._lock_depth -= 1
        if self.store._lock_depth:
            return False
        handle, self.store._lock_handle = self.store._lock_handle, None
        if HAS_FCNTL:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        handle.close()
        return False


# ---------------------------------------------------------------------------------
class SecretsManagerStore(SecretStore):
    """AWS Secrets Manager (or any endpoint speaking its API, e.g. moto in tests)."""

    def __init__(self, secret_id, region=None, profile=None, endpoint_url=None, access_key=None,
                 secret_key=None, session_token=None, kms_key_id=None, description=None, client=None):
        self.secret_id = secret_id
        self.kms_key_id = kms_key_id
        self.description = description
        self.location = "Secrets Manager secret %s" % secret_id
        self.client = client or make_secretsmanager_client(
            region=region, profile=profile, endpoint_url=endpoint_url, access_key=access_key,
            secret_key=secret_key, session_token=session_token,
        )

    def _call(self, operation, **kwargs):
        from botocore.exceptions import BotoCoreError, ClientError

        doing = "%s on %s failed" % (_operation_name(operation), self.location)
        try:
            return getattr(self.client, operation)(**kwargs)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            if error.get("Code") == "ResourceNotFoundException":
                raise _NotFound()
            raise SecretStoreError("%s: %s: %s" % (doing, error.get("Code"), error.get("Message")), exc, doing)
        except BotoCoreError as exc:
            raise SecretStoreError("%s: %s" % (doing, exc), exc, doing)

    def describe(self):
        # DescribeSecret first: it answers ResourceNotFoundException for a missing secret on every
        # implementation; VersionIdsToStages are the labels, ListSecretVersionIds adds creation dates.
        try:
            described = self._call("describe_secret", SecretId=self.secret_id)
        except _NotFound:
            return None
        versions = dict((vid, dict(stages=list(stages), created=None))
                        for vid, stages in (described.get("VersionIdsToStages") or {}).items() if stages)
        try:
            kwargs = dict(SecretId=self.secret_id, IncludeDeprecated=False)
            while True:
                page = self._call("list_secret_version_ids", **kwargs)
                for item in page.get("Versions", []):
                    if item["VersionId"] in versions:
                        versions[item["VersionId"]]["created"] = _iso(item.get("CreatedDate"))
                if not page.get("NextToken"):
                    break
                kwargs["NextToken"] = page["NextToken"]
        except _NotFound:
            return None
        return versions

    def read_version(self, version_id):
        try:
            response = self._call("get_secret_value", SecretId=self.secret_id, VersionId=version_id)
        except _NotFound:
            raise SecretStoreError("%s has no version %s" % (self.location, version_id))
        if "SecretString" not in response:
            raise SecretStoreError("version %s of %s holds binary data, not a JSON object" % (version_id, self.location))
        return _decode(response["SecretString"], "version %s of %s" % (version_id, self.location))

    def create(self, value, version_id):
        kwargs = dict(Name=self.secret_id, SecretString=json.dumps(value, sort_keys=True), ClientRequestToken=version_id)
        if self.kms_key_id:
            kwargs["KmsKeyId"] = self.kms_key_id
        if self.description:
            kwargs["Description"] = self.description
        self._call("create_secret", **kwargs)

    def put_version(self, value, version_id, stages):
        self._call("put_secret_value", SecretId=self.secret_id, SecretString=json.dumps(value, sort_keys=True),
                   ClientRequestToken=version_id, VersionStages=list(stages))

    def update_stage(self, stage, move_to=None, remove_from=None):
        kwargs = dict(SecretId=self.secret_id, VersionStage=stage)
        if move_to:
            kwargs["MoveToVersionId"] = move_to
        if remove_from:
            kwargs["RemoveFromVersionId"] = remove_from
        self._call("update_secret_version_stage", **kwargs)


class _NotFound(Exception):
    pass


def _operation_name(snake):
    return "".join(part.capitalize() for part in snake.split("_"))


def make_secretsmanager_client(region=None, profile=None, endpoint_url=None, access_key=None,
                               secret_key=None, session_token=None):
    """A boto3 Secrets Manager client with standard (jittered, throttling-aware) retries."""
    try:
        import boto3
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError
    except ImportError:
        raise SecretStoreError("the boto3 Python library is required for the Secrets Manager backend (pip install boto3)")
    try:
        session = boto3.session.Session(
            profile_name=profile or None, region_name=region or None, aws_access_key_id=access_key or None,
            aws_secret_access_key=secret_key or None, aws_session_token=session_token or None,
        )
        return session.client("secretsmanager", endpoint_url=endpoint_url or None,
                              config=Config(retries=dict(mode="standard", max_attempts=8)))
    except BotoCoreError as exc:
        raise SecretStoreError("cannot create a Secrets Manager client: %s" % exc)
