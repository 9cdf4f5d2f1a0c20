# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Sensa Learn platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""squawk over pending migration files, findings as plain dicts."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil
import subprocess
import sys

# pg_migrate sets lock_timeout and statement_timeout itself for every file, so squawk's
# rules asking for them in the file are satisfied by the runner, not the SQL.
DEFAULT_EXCLUDED_RULES = ("require-lock-timeout", "require-statement-timeout", "require-timeout-settings")


def find_squawk(explicit=None):
    if explicit:
        return explicit if os.path.isfile(explicit) else None
    candidates = [os.path.join(os.path.dirname(sys.executable), "squawk"), shutil.which("squawk")]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def lint(paths, squawk=None, exclude=DEFAULT_EXCLUDED_RULES, pg_version=None):
    """(findings, error): findings is a list of {file, line, rule, level, message}; error a string or None."""
    if not paths:
        return [], None
    binary = find_squawk(squawk)
    if binary is None:
        return None, "squawk is not installed on the controller (pip install squawk-cli); lint skipped"
    argv = [binary, "--reporter", "json"]
    if exclude:
        argv.append("--exclude=" + ",".join(exclude))
    if pg_version:
        argv.append("--pg-version=" + pg_version)
    argv.extend(paths)
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    try:
        raw = json.loads(proc.stdout or "[]")
    except ValueError:
        return None, "squawk failed (exit %d): %s" % (proc.returncode, (proc.stderr or proc.stdout).strip()[:500])
    findings = []
    for item in raw:
        findings.append(
            {
                "file": os.path.basename(item.get("file", "")),
                "line": (item.get("line") or 0) + 1,
                "rule": item.get("rule_name"),
                "level": item.get("level"),
                "message": item.get("message"),
            }
        )
    return findings, None
