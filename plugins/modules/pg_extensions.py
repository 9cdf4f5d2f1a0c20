#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Sensa Learn platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: pg_extensions
short_description: Ensure PostgreSQL extensions are installed at a minimum version
version_added: 1.0.0
description:
  - Installs each extension of O(extensions) in the database, or updates it when the installed version is older than
    its O(extensions[].min_version) and the server offers a newer one.
  - A required extension the server does not have, or only in a version that is too old, fails the task with a
    message naming the extension, the server and what to do. An optional one is skipped without a warning (a
    clean run warns about nothing); RV(unavailable) and RV(unavailable_reasons) say which and why.
  - Returns the server version and every extension's installed version, for the summary at the end of site.yml.
author:
  - Sensa Learn platform team (@sensa-learn)
extends_documentation_fragment:
  - sensa.infra.postgres
attributes:
  check_mode:
    support: full
    description: Returns the statements it would run without running them.
  diff_mode:
    support: none
    description: Nothing to diff; the returned values say what changed.
options:
  extensions:
    description:
      - The extensions to ensure.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Extension name, as in C(pg_available_extensions).
        type: str
        required: true
      min_version:
        description: Lowest acceptable version, for example V(0.5.0) for pgvector (HNSW indexes).
        type: str
      required:
        description: Fail when the server cannot provide it; when false, skip it and name it in RV(unavailable).
        type: bool
        default: true
      schema:
        description: Schema to install it into (C(CREATE EXTENSION ... SCHEMA)).
        type: str
seealso:
  - module: community.postgresql.postgresql_ext
"""

EXAMPLES = r"""
- name: Ensure the Sensa Learn extensions
  sensa.infra.pg_extensions:
    login_db: sensa
    extensions:
      - {name: vector, min_version: "0.5.0"}
      - {name: pg_trgm}
      - {name: uuid-ossp, required: false}
  register: extensions
"""

RETURN = r"""
server_version:
  description: The server's version string.
  returned: always
  type: str
  sample: "15.8"
installed:
  description: Extension name to installed version, after the task (in check mode, as it would be).
  returned: always
  type: dict
  sample: {"vector": "0.8.0", "pg_trgm": "1.6"}
unavailable:
  description: Optional extensions the server does not offer.
  returned: always
  type: list
  elements: str
unavailable_reasons:
  description: For each of RV(unavailable), what is missing on which server and how to install it.
  returned: always
  type: dict
  sample: { uuid-ossp: "extension 'uuid-ossp' is not available on PostgreSQL 18.6 at ...: install the server's contrib package" }
queries:
  description: Statements run (or that would run in check mode).
  returned: always
  type: list
  elements: str
"""

import difflib

from ansible_collections.sensa.infra.plugins.module_utils.postgres_connection import (
    DatabaseError,
    PostgresModule,
    quote_ident,
)


def version_tuple(text):
    """'0.8.0' -> (0, 8, 0); non-numeric parts compare as 0 ('1.1' for uuid-ossp is fine)."""
    parts = []
    for piece in str(text).replace("-", ".").split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def install_hint(name, min_version):
    if name == "vector":
        return ("install pgvector %s or newer on the server (Debian: scripts/install-system-postgres.sh builds it; "
                "RDS PostgreSQL 15.4+ ships it; embedded engine: it is bundled)" % (min_version or ""))
    if name in ("pg_trgm", "uuid-ossp"):
        return "install the server's contrib package (Debian: postgresql-contrib)"
    return "install the package that provides it on the server, or fix the name"


def main():
    argument_spec = dict(
        extensions=dict(
            type="list", elements="dict", required=True,
            options=dict(
                name=dict(type="str", required=True),
                min_version=dict(type="str"),
                required=dict(type="bool", default=True),
                schema=dict(type="str"),
            ),
        ),
    )
    module = PostgresModule(argument_spec=argument_spec, supports_check_mode=True)
    conn = module.connect(autocommit=True)
    cur = conn.cursor()
    try:
        cur.execute("SHOW server_version")
        server_version = cur.fetchone()[0]
        cur.execute("SELECT name, default_version FROM pg_available_extensions")
        available = dict(cur.fetchall())
        cur.execute("SELECT extname, extversion FROM pg_extension")
        installed = dict(cur.fetchall())
    except DatabaseError as exc:
        conn.close()
        module.fail_on_database_error(exc, "reading the extensions")
    target = module.target

    queries, unavailable, problems, reasons = [], [], [], {}
    for ext in module.params["extensions"]:
        name, min_version = ext["name"], ext["min_version"]
        have, offered = installed.get(name), available.get(name)
        too_old = min_version and offered and version_tuple(offered) < version_tuple(min_version)
        if have and (not min_version or version_tuple(have) >= version_tuple(min_version)):
            continue
        if offered is None or too_old:
            if offered is None:
                close = difflib.get_close_matches(name, list(available), n=3)
                what = "is not available" + (" (did you mean %s?)" % ", ".join(close) if close else "")
            else:
                what = "is only available in version %s, older than the required %s" % (offered, min_version)
            message = "extension '%s' %s on PostgreSQL %s at %s: %s" % (
                name, what, server_version, target, install_hint(name, min_version))
            if ext["required"]:
                problems.append(message)
            else:
                # Optional: reported in the result (and the site.yml summary), not as a warning.
                unavailable.append(name)
                reasons[name] = message
            continue
        ident = quote_ident(name, conn)
        if have:
            queries.append("ALTER EXTENSION %s UPDATE" % ident)
        else:
            schema = " SCHEMA %s" % quote_ident(ext["schema"], conn) if ext["schema"] else ""
            queries.append("CREATE EXTENSION IF NOT EXISTS %s%s" % (ident, schema))
        installed[name] = offered
    if problems:
        conn.close()
        module.fail_json(msg="; ".join(problems), server_version=server_version, queries=[])

    if not module.check_mode:
        for query in queries:
            try:
                cur.execute(query)
            except DatabaseError as exc:
                conn.close()
                module.fail_on_database_error(exc, query, queries=queries)
        cur.execute("SELECT extname, extversion FROM pg_extension")
        installed = dict(cur.fetchall())
    conn.close()
    wanted = set(e["name"] for e in module.params["extensions"])
    module.exit_json(
        changed=bool(queries),
        server_version=server_version,
        installed=dict((k, v) for k, v in installed.items() if k in wanted),
        unavailable=unavailable,
        unavailable_reasons=reasons,
        queries=queries,
    )


if __name__ == "__main__":
    main()
