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
  ssl_cert:
    description:
      - Client certificate file presented to the server (libpq C(sslcert)), for C(cert) authentication.
    type: path
  ssl_key:
    description:
      - Private key of O(ssl_cert) (libpq C(sslkey)).
    type: path
  connect_params:
    description:
      - Further libpq connection keywords (for example C(target_session_attrs), C(sslcrl), C(options)), passed
        as they are. They win over the options above, as in community.postgresql.
    type: dict
    default: {}
  login_auth:
    description:
      - How O(login_user) authenticates.
      - V(password) uses O(login_password) (or libpq's own sources when it is empty).
      - V(rds_iam) gets an RDS IAM authentication token from boto3's C(generate_db_auth_token) and uses it as
        the password. The token is valid for 15 minutes and is never logged or returned. O(login_password) must
        be empty, O(ssl_mode) must be V(require), V(verify-ca) or V(verify-full) (RDS accepts tokens over TLS
        only), the database user needs C(GRANT rds_iam), and the IAM identity C(rds-db:connect) on it.
    type: str
    default: password
    choices: [ password, rds_iam ]
  aws_region:
    description:
      - With O(login_auth=rds_iam), the instance's region. Defaults to boto3's configuration (C(AWS_REGION),
        the profile), then to the region in an RDS endpoint host name.
    type: str
  aws_profile:
    description:
      - With O(login_auth=rds_iam), the named AWS profile whose credentials sign the token. Defaults to boto3's
        credential chain.
    type: str
  aws_endpoint_url:
    description:
      - With O(login_auth=rds_iam), an alternative RDS API endpoint for the boto3 client (moto in tests). Signing
        the token is local; no request is sent.
    type: str
  rds_iam_host:
    description:
      - With O(login_auth=rds_iam), the instance endpoint the token is signed for. Defaults to O(login_host); set
        it when O(login_host) is a local tunnel (an SSM or SSH port forward).
    type: str
  rds_iam_port:
    description:
      - With O(login_auth=rds_iam), the instance port the token is signed for. Defaults to O(login_port); set it
        when O(login_port) is a tunnel's local port.
    type: int
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
  - boto3, only with O(login_auth=rds_iam)
"""
