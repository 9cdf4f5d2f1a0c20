"""Scaffold a new migration and its rollback from the guidelines' template.

    .venv/bin/python scripts/new_migration.py add_course_tags [--sql-dir files/sql] [--date YYYYMMDD]

Writes ``<sql-dir>/migrations/<version>_<description>.sql`` and
``<sql-dir>/rollbacks/<version>_rollback.sql``, where the version is the date (today, UTC,
or the newest existing date if that is later) and the next sequence number after every
existing version's, so the new file sorts last. The file bodies are the two templates in
docs/MIGRATION_GUIDELINES.md (section "Templates"), so the guidelines stay their single
home. Existing files are never overwritten.
"""

import argparse
import datetime
import os
import re
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GUIDELINES = os.path.join(REPO, "docs", "MIGRATION_GUIDELINES.md")
# The file names are pg_migrate's (plugins/module_utils/migration_files.py), read from the
# committed collections/ link to this checkout.
sys.path.insert(0, os.path.join(REPO, "collections"))

from ansible_collections.sensa.infra.plugins.module_utils.migration_files import MIGRATION_RE, ROLLBACK_RE  # noqa: E402


def templates(path=GUIDELINES):
    """The migration and rollback templates: the ```sql blocks after the template markers."""
    with open(path) as handle:
        text = handle.read()
    found = {}
    for kind in ("migration", "rollback"):
        match = re.search(r"<!-- template:%s -->\s*```sql\n(.*?)```" % kind, text, re.S)
        if not match:
            raise SystemExit("%s has no '<!-- template:%s -->' sql block" % (path, kind))
        found[kind] = match.group(1)
    return found


def next_version(sql_dir, today):
    dates, sequences = [today], [0]
    for folder, pattern in (("migrations", MIGRATION_RE), ("rollbacks", ROLLBACK_RE)):
        directory = os.path.join(sql_dir, folder)
        for name in os.listdir(directory) if os.path.isdir(directory) else []:
            match = pattern.match(name)
            if match:
                date, sequence = match.group("version").split("_")
                dates.append(date)
                sequences.append(int(sequence))
    return "%s_%04d" % (max(dates), max(sequences) + 1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("description", help="lower-case letters, digits and underscores, e.g. add_course_tags")
    parser.add_argument("--sql-dir", default=os.path.join(REPO, "files", "sql"))
    parser.add_argument("--date", default=datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d"))
    args = parser.parse_args(argv)
    if not MIGRATION_RE.match("00000000_0000_%s.sql" % args.description):
        parser.error("description %r: use lower-case letters, digits and underscores (add_course_tags)" % args.description)
    if not re.match(r"^\d{8}$", args.date):
        parser.error("--date must be YYYYMMDD")
    version = next_version(args.sql_dir, args.date)
    bodies = templates()
    files = (
        (os.path.join(args.sql_dir, "migrations", "%s_%s.sql" % (version, args.description)), bodies["migration"]),
        (os.path.join(args.sql_dir, "rollbacks", "%s_rollback.sql" % version), bodies["rollback"]),
    )
    for path, _body in files:
        if os.path.exists(path):
            raise SystemExit("%s exists; nothing written" % path)
    for path, body in files:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "x") as handle:
            handle.write(body.replace("{version}", version).replace("{description}", args.description))
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
