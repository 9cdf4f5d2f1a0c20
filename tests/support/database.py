"""A fresh database on a test cluster, with the ways tests reach it."""

import os


class Database:
    """A fresh database on the session cluster, with the ways tests reach it."""

    def __init__(self, cluster, name, superuser_password):
        self.cluster = cluster
        self.name = name
        self.superuser_password = superuser_password

    def conninfo(self, user=None, password=None, tcp=False):
        return self.cluster.conninfo(self.name, user=user, password=password, tcp=tcp)

    def connect(self, user=None, password=None, tcp=False, autocommit=True):
        import psycopg2

        conn = psycopg2.connect(**self.conninfo(user=user, password=password, tcp=tcp))
        conn.autocommit = autocommit
        return conn

    def psql(self, sql, check=True):
        return self.cluster.psql(sql, dbname=self.name, check=check)

    def query(self, sql, params=None):
        with self.connect() as conn, conn.cursor() as cur:
            cur.execute(sql, params)
            rows = cur.fetchall() if cur.description else []
        conn.close()
        return rows

    def scalar(self, sql, params=None):
        rows = self.query(sql, params)
        return rows[0][0] if rows else None

    @property
    def login(self):
        """Connection options for our modules (unix socket, trusted superuser)."""
        return {
            "login_unix_socket": self.cluster.socket_dir,
            "login_port": self.cluster.port,
            "login_user": self.cluster.superuser,
            "login_db": self.name,
        }

    def pg_dump_schema(self):
        import subprocess

        out = subprocess.run(
            [os.path.join(self.cluster.bindir, "pg_dump"), "--schema-only", "--no-owner", "--no-privileges",
             "-h", self.cluster.socket_dir, "-p", str(self.cluster.port), "-U", self.cluster.superuser, self.name],
            capture_output=True, text=True, check=True,
        ).stdout
        # pg_dump >= 17 prints a random \restrict key per run; it is not schema.
        return "\n".join(line for line in out.splitlines() if not line.startswith(("\\restrict", "\\unrestrict")))
