# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Sensa Learn platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The connection options of plugins/module_utils/postgres_connection.py, documented once.
    DOCUMENTATION = r"""
options:
  login_user:
    description:
      - The role to connect as.
    type: str
    default: postgres
    aliases: [ login ]
  login_password:
    description:
      - The password of O(login_user). Never logged or returned.
      - Leave empty to use libpq's own sources (C(PGPASSWORD), C(~/.pgpass)) or trust/peer auth.
    type: str
    default: ''
  login_host:
    description:
      - Host name or IP address of the server. Empty means libpq's default.
    type: str
    default: ''
    aliases: [ host ]
  login_unix_socket:
    description:
      - Directory of the server's unix socket; wins over O(login_host) when set.
    type: str
    default: ''
    aliases: [ unix_socket ]
  login_port:
    description:
      - Server port.
    type: int
    default: 5432
    aliases: [ port ]
  login_db:
    description:
      - Database to connect to.
    type: str
    default: postgres
    aliases: [ db, database ]
  ssl_mode:
    description:
      - libpq C(sslmode). Use V(verify-full) with O(ca_cert) against RDS.
    type: str
    default: prefer
    choices: [ allow, disable, prefer, require, verify-ca, verify-full ]
  ca_cert:
    description:
      - CA certificate file used to verify the server (libpq C(sslrootcert)).
    type: str
    aliases: [ ssl_rootcert ]
  connect_timeout:
    description:
      - Seconds to wait for the connection to be established.
    type: int
    default: 10
  application_name:
    description:
      - C(application_name) reported in C(pg_stat_activity), so operators can see this module.
    type: str
    default: sensa.infra
requirements:
  - psycopg2 (C(psycopg2-binary)) on the host that runs the module
"""
