# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Sensa Learn platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Migration files on disk and the pure planning logic of pg_migrate.

Layout (documented in docs/MIGRATION_GUIDELINES.md)::

    files/sql/migrations/YYYYMMDD_NNNN_description.sql  a migration, version YYYYMMDD_NNNN
    files/sql/rollbacks/YYYYMMDD_NNNN_rollback.sql      its rollback
    files/sql/fixes/YYYYMMDD_NNNN_apply_fix.sql         corrective SQL for an edited, applied file

The migrations directory holds forward migrations only, so no glob of it (a seed's
``for file in *.sql; do psql -f "$file"; done``) can ever run a rollback or a fix;
``discover`` refuses a migrations directory that holds either, naming them.

Nothing here talks to a database, so every rule is unit-tested without one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os
import re

CHECKSUM_PREFIX = "sha256:v1:"
BOM = b"\xef\xbb\xbf"

MIGRATION_RE = re.compile(r"^(?P<version>\d{8}_\d{4})_(?P<description>[a-z0-9][a-z0-9_]*)\.sql$")
ROLLBACK_RE = re.compile(r"^(?P<version>\d{8}_\d{4})_rollback\.sql$")
FIX_RE = re.compile(r"^(?P<version>\d{8}_\d{4})_apply_fix\.sql$")
HEADER_RE = re.compile(r"^--\s*sensa:(?P<key>[a-z_-]+)\s*(?:[=:]\s*(?P<value>\S+))?\s*$", re.I)
DURATION_RE = re.compile(r"^\d+(ms|s|min|h)?$")
HEADER_KEYS = ("no-transaction", "lock_timeout", "statement_timeout")


class MigrationError(Exception):
    """A problem the operator must fix; the message says what, where and how."""


def normalize(data):
    """The bytes a checksum covers: UTF-8 BOM removed, CRLF folded to LF."""
    if data.startswith(BOM):
        data = data[len(BOM):]
    return data.replace(b"\r\n", b"\n")


def checksum(data):
    return CHECKSUM_PREFIX + hashlib.sha256(normalize(data)).hexdigest()


def decode(data, path):
    try:
        return normalize(data).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MigrationError("%s is not valid UTF-8 (byte %d); save it as UTF-8" % (path, exc.start))


def parse_headers(text, path):
    """``-- sensa:key[=value]`` lines in the file's leading comment block."""
    headers = {}
    for raw in text.split("\n"):
        line = raw.strip()
        if not line:
            continue
        if not line.startswith("--"):
            break
        match = HEADER_RE.match(line)
        if not match:
            continue
        key = match.group("key").lower().replace("_", "-")
        key = key if key == "no-transaction" else key.replace("-", "_")
        if key not in HEADER_KEYS:
            raise MigrationError(
                "%s: unknown header '-- sensa:%s'; known headers: %s" % (path, match.group("key"), ", ".join(HEADER_KEYS))
            )
        value = match.group("value")
        if key == "no-transaction":
            headers[key] = True
        else:
            if not value or not DURATION_RE.match(value):
                raise MigrationError(
                    "%s: header '-- sensa:%s' needs a duration such as 5s, 500ms or 10min" % (path, key)
                )
            headers[key] = value
    return headers


class SqlFile:
    """One SQL file: path, checksum and its text and headers, read on first use (a no-op run
    over a thousand migrations never opens their rollbacks)."""

    def __init__(self, path):
        self.path = path
        self.filename = os.path.basename(path)
        self._raw = None
        self._checksum = None
        self._text = None
        self._headers = None

    @property
    def raw(self):
        if self._raw is None:
            with open(self.path, "rb") as handle:
                self._raw = handle.read()
        return self._raw

    @property
    def checksum(self):
        if self._checksum is None:
            self._checksum = checksum(self.raw)
        return self._checksum

    @property
    def text(self):
        if self._text is None:
            self._text = decode(self.raw, self.path)
        return self._text

    @property
    def headers(self):
        if self._headers is None:
            self._headers = parse_headers(self.text, self.filename)
        return self._headers

    @property
    def transactional(self):
        return not self.headers.get("no-transaction", False)


class Migration:
    def __init__(self, version, description, up, down=None, fix=None):
        self.version = version
        self.description = description
        self.up = up
        self.down = down
        self.fix = fix

    @property
    def filename(self):
        return self.up.filename

    @property
    def checksum(self):
        return self.up.checksum

    def __repr__(self):
        return "Migration(%s)" % self.version


def default_sibling(path, name):
    """``rollbacks`` or ``fixes`` beside the migrations directory."""
    return os.path.join(os.path.dirname(os.path.normpath(path)), name)


def _sql_files(directory, pattern, label, expected, problems):
    """{version: path} of the files in ``directory`` matching ``pattern``; other names are
    problems (a README.md explaining the directory is allowed)."""
    found = {}
    if not os.path.isdir(directory):
        return found
    for name in sorted(os.listdir(directory)):
        if name.startswith(".") or name.endswith(".md") or os.path.isdir(os.path.join(directory, name)):
            continue
        match = pattern.match(name)
        if not match:
            problems.append("%s/%s: malformed name; expected %s" % (label, name, expected))
            continue
        found[match.group("version")] = os.path.join(directory, name)
    return found


def discover(path, rollbacks_path=None, fixes_path=None, require_rollback=True):
    """Read the migrations in ``path`` (rollbacks and fixes from their own directories, by
    default ``rollbacks`` and ``fixes`` beside ``path``) and return them sorted by version,
    or raise with every problem found."""
    if not os.path.isdir(path):
        raise MigrationError("migrations path %s does not exist or is not a directory" % path)
    rollbacks_path = rollbacks_path or default_sibling(path, "rollbacks")
    fixes_path = fixes_path or default_sibling(path, "fixes")
    problems = []
    misplaced = []
    ups = {}
    for name in sorted(os.listdir(path)):
        full = os.path.join(path, name)
        if name.startswith("."):
            continue
        if os.path.isdir(full):
            if any(f.endswith(".sql") for f in os.listdir(full)):
                misplaced.append(name + "/")
            continue
        if not name.endswith(".sql"):
            problems.append("%s: not a .sql file; keep only forward migrations in %s" % (name, path))
            continue
        if ROLLBACK_RE.match(name) or FIX_RE.match(name):
            misplaced.append(name)
            continue
        migration = MIGRATION_RE.match(name)
        if migration:
            version = migration.group("version")
            if version in ups:
                problems.append(
                    "duplicate version %s: %s and %s; give one of them the next free number"
                    % (version, os.path.basename(ups[version][0]), name)
                )
                continue
            ups[version] = (full, migration.group("description"))
        else:
            problems.append(
                "%s: malformed name; expected YYYYMMDD_NNNN_description.sql (lower-case description "
                "of letters, digits, underscores)" % name
            )
    if misplaced:
        # A glob of the migrations directory would run these: refuse before anything else.
        problems.insert(
            0,
            "the migrations directory holds rollback or fix files, which any '*.sql' loop over it would run: %s. "
            "Move rollbacks to %s and fixes to %s (git mv keeps their bytes and checksums)"
            % (", ".join(misplaced), rollbacks_path, fixes_path)
        )
    downs = _sql_files(rollbacks_path, ROLLBACK_RE, "rollbacks", "YYYYMMDD_NNNN_rollback.sql", problems)
    fixes = _sql_files(fixes_path, FIX_RE, "fixes", "YYYYMMDD_NNNN_apply_fix.sql", problems)
    for version in sorted(set(downs) - set(ups)):
        problems.append("rollbacks/%s: rollback with no migration of version %s" % (os.path.basename(downs[version]), version))
    if require_rollback:
        for version in sorted(set(ups) - set(downs)):
            problems.append(
                "%s: migration with no rollback; add %s" % (
                    os.path.basename(ups[version][0]), os.path.join(rollbacks_path, version + "_rollback.sql"))
            )
    for version in sorted(set(fixes) - set(ups)):
        problems.append("fixes/%s: fix for version %s, which has no migration" % (os.path.basename(fixes[version]), version))
    if problems:
        raise MigrationError("invalid migrations in %s:\n  - %s" % (path, "\n  - ".join(problems)))
    result = []
    for version in sorted(ups):
        full, description = ups[version]
        result.append(
            Migration(
                version,
                description,
                SqlFile(full),
                SqlFile(downs[version]) if version in downs else None,
                SqlFile(fixes[version]) if version in fixes else None,
            )
        )
    return result


class AppliedVersion:
    """The current state of one version in migrations_log (newest successful attempt)."""

    def __init__(self, version, filename, kind, checksum_value):
        self.version = version
        self.filename = filename
        self.kind = kind
        self.checksum = checksum_value

    @property
    def applied(self):
        return self.kind != "rollback"


class Plan:
    """What one action would do, decided from the files and the log's state."""

    def __init__(self, action="applied"):
        self.action = action
        self.state = {}  # version -> AppliedVersion, as read
        self.apply = []  # Migrations to run, in order
        self.rollback = []  # Migrations to roll back, newest first
        self.baseline = []  # Migrations to record as applied without running
        self.fixes = []  # (Migration, old checksum) whose fix file must run first
        self.repairs = []  # (Migration, old checksum) to accept
        self.drift = []  # (Migration, recorded checksum) with no fix: an error unless repairing
        self.missing = []  # AppliedVersion with no file
        self.out_of_order = []  # Migrations older than the newest applied
        self.current = None
        self.target = None
        self.steps = None

    @property
    def errors(self):
        errors = []
        for applied in self.missing:
            errors.append(
                "version %s (%s) is applied but its file is gone; restore the file or roll the version back "
                "with the file present" % (applied.version, applied.filename)
            )
        for migration, recorded in self.drift:
            errors.append(
                "%s changed after it was applied: recorded %s, file now %s. Revert the edit, or keep it and add "
                "fixes/%s_apply_fix.sql with the corrective SQL (pg_migrate runs it once and records a 'fix'), "
                "or accept the file as it is with state=repaired (audited)"
                % (migration.filename, recorded, migration.checksum, migration.version)
            )
        for migration in self.out_of_order:
            errors.append(
                "%s is older than the newest applied version %s; rename it to a newer version, or set "
                "out_of_order: true if running it now is intended" % (migration.filename, self.current)
            )
        return errors


def make_plan(migrations, state, action="applied", target=None, out_of_order=False, steps=None):
    """Decide what ``action`` would do. ``state`` maps version to AppliedVersion.

    action: applied | rolled_back | baseline | repaired | status
    target: for applied/status the highest version to apply (None = latest); for
    rolled_back the version to keep (``"0"`` = roll back everything); for baseline the
    highest version to mark.
    steps: for rolled_back instead of target, how many of the newest applied versions to
    roll back.
    """
    plan = Plan(action)
    plan.state = state
    plan.steps = steps
    by_version = dict((m.version, m) for m in migrations)
    applied_versions = sorted(v for v, s in state.items() if s.applied)
    plan.current = applied_versions[-1] if applied_versions else None

    if target not in (None, "", "latest", "0") and target not in by_version:
        raise MigrationError(
            "target %s is not a migration version in the path; versions run from %s to %s"
            % (target, migrations[0].version if migrations else "-", migrations[-1].version if migrations else "-")
        )
    plan.target = target

    for version in applied_versions:
        if version not in by_version:
            plan.missing.append(state[version])

    for migration in migrations:
        recorded = state.get(migration.version)
        if recorded is None or not recorded.applied:
            continue
        if recorded.checksum and recorded.checksum != migration.checksum:
            if action == "repaired":
                plan.repairs.append((migration, recorded.checksum))
            elif migration.fix is not None:
                plan.fixes.append((migration, recorded.checksum))
            else:
                plan.drift.append((migration, recorded.checksum))

    if action in ("applied", "status"):
        limit = None if target in (None, "", "latest") else target
        for migration in migrations:
            if limit is not None and migration.version > limit:
                break
            recorded = state.get(migration.version)
            if recorded is not None and recorded.applied:
                continue
            if plan.current is not None and migration.version < plan.current and not out_of_order:
                plan.out_of_order.append(migration)
            plan.apply.append(migration)
    elif action == "rolled_back":
        if steps is not None:
            if target not in (None, ""):
                raise MigrationError("state=rolled_back takes target or steps, not both")
            if int(steps) < 1:
                raise MigrationError("steps must be 1 or more (the number of newest applied versions to roll back)")
            newest = [v for v in reversed(applied_versions) if v in by_version][: int(steps)]
            candidates = [by_version[v] for v in newest]
        else:
            if target in (None, "", "latest"):
                raise MigrationError("state=rolled_back needs target (the version to keep, or 0 to roll back "
                                     "everything) or steps (how many of the newest applied versions)")
            keep = "" if target == "0" else target
            candidates = [m for m in reversed(migrations) if m.version > keep]
        for migration in candidates:
            recorded = state.get(migration.version)
            if recorded is not None and recorded.applied:
                if migration.down is None:
                    raise MigrationError("%s has no rollback file; cannot roll it back" % migration.filename)
                plan.rollback.append(migration)
    elif action == "baseline":
        if target in (None, "", "latest", "0"):
            raise MigrationError("state=baseline needs target: the newest version already present in the database")
        for migration in migrations:
            if migration.version > target:
                break
            recorded = state.get(migration.version)
            if recorded is None or not recorded.applied:
                plan.baseline.append(migration)
    elif action != "repaired":
        raise MigrationError("unknown action %s" % action)
    return plan
