"""What RDS does with an IAM authentication token, played on 127.0.0.1 for tests.

RDS cannot run here, and moto has no database behind its RDS API. This endpoint stands in
for the RDS front end's part of a login only: it speaks the PostgreSQL protocol, requires TLS
(as RDS does for IAM logins), asks for the password in clear text (as RDS does for rds_iam
users), and verifies the token as AWS does: a SigV4 presigned ``connect`` request for its
host:port and user, signed with the secret key of the credentials in the token, not expired.
A valid token is relayed to a real local PostgreSQL (trust over its unix socket) and the
session continues there; anything else gets RDS's own refusal, ``PAM authentication failed``.
Every password received is kept in ``received`` for the test to inspect.
"""

import datetime
import hashlib
import hmac
import os
import select
import socket
import ssl
import struct
import threading
import urllib.parse

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
PROTOCOL_3 = 196608


def verify_token(token, host, port, user, secret_keys, now=None):
    """None when ``token`` is a valid RDS IAM token for user@host:port, else the reason."""
    prefix = "%s:%d/?" % (host, port)
    if not token.startswith(prefix):
        return "signed for another endpoint"
    params = urllib.parse.parse_qsl(token[len(prefix):], keep_blank_values=True)
    fields = dict(params)
    if fields.get("Action") != "connect" or fields.get("DBUser") != user:
        return "not a connect request for %s" % user
    try:
        access_key, scope = fields["X-Amz-Credential"].split("/", 1)
        signed_at = datetime.datetime.strptime(fields["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
        expires = int(fields["X-Amz-Expires"])
        signature = fields["X-Amz-Signature"]
    except (KeyError, ValueError):
        return "malformed"
    if access_key not in secret_keys:
        return "unknown access key"
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if not signed_at - datetime.timedelta(minutes=5) <= now <= signed_at + datetime.timedelta(seconds=expires):
        return "expired"
    query = "&".join("%s=%s" % (urllib.parse.quote(k, safe="-_.~"), urllib.parse.quote(v, safe="-_.~"))
                     for k, v in sorted(p for p in params if p[0] != "X-Amz-Signature"))
    request = "\n".join(["GET", "/", query, "host:%s:%d\n" % (host, port), "host", hashlib.sha256(b"").hexdigest()])
    to_sign = "\n".join(["AWS4-HMAC-SHA256", fields["X-Amz-Date"], scope, hashlib.sha256(request.encode()).hexdigest()])
    key = ("AWS4" + secret_keys[access_key]).encode()
    for part in scope.split("/"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest(), signature):
        return "bad signature"
    return None


def self_signed_certificate(directory, name):
    """A throwaway certificate and key for ``name`` (the server side of the TLS)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = os.path.join(directory, "endpoint.crt"), os.path.join(directory, "endpoint.key")
    with open(cert_path, "wb") as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    os.chmod(key_path, 0o600)
    return cert_path, key_path


def _read_exact(sock, count):
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise ConnectionError("client went away")
        data += chunk
    return data


def _startup_message(user, database):
    body = struct.pack("!I", PROTOCOL_3) + b"user\0" + user.encode() + b"\0database\0" + database.encode() + b"\0\0"
    return struct.pack("!I", len(body) + 4) + body


def _error(message, code="28000"):
    fields = b"SFATAL\0VFATAL\0C" + code.encode() + b"\0M" + message.encode() + b"\0\0"
    return b"E" + struct.pack("!I", len(fields) + 4) + fields


class RdsIamEndpoint:
    """``with RdsIamEndpoint(...) as endpoint:`` listens on 127.0.0.1:endpoint.port until the block ends."""

    def __init__(self, workdir, rds_host, rds_port, secret_keys, upstream_socket):
        self.rds_host, self.rds_port = rds_host, rds_port
        self.secret_keys = dict(secret_keys)
        self.upstream_socket = upstream_socket
        self.received = []
        self.refusals = []
        cert, key = self_signed_certificate(workdir, rds_host)
        self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.tls.load_cert_chain(cert, key)
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self.listener.close()
        self._thread.join(timeout=10)
        return False

    def _serve(self):
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([self.listener], [], [], 0.2)
                if not ready:
                    continue
                client, _addr = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._session, args=(client,), daemon=True).start()

    def _session(self, client):
        try:
            with client:
                while True:
                    length, code = struct.unpack("!II", _read_exact(client, 8))
                    if code == GSSENC_REQUEST:
                        client.sendall(b"N")
                        continue
                    if code != SSL_REQUEST:
                        client.sendall(_error("IAM authentication requires SSL", "08P01"))
                        return
                    client.sendall(b"S")
                    break
                with self.tls.wrap_socket(client, server_side=True) as tls:
                    self._login(tls)
        except (ConnectionError, ssl.SSLError, OSError):
            return

    def _login(self, tls):
        length = struct.unpack("!I", _read_exact(tls, 4))[0]
        body = _read_exact(tls, length - 4)
        pairs = body[4:].split(b"\0")
        startup = dict(zip((p.decode() for p in pairs[0::2]), (p.decode() for p in pairs[1::2])))
        user, database = startup.get("user", ""), startup.get("database", startup.get("user", ""))
        tls.sendall(b"R" + struct.pack("!II", 8, 3))  # AuthenticationCleartextPassword
        kind, length = struct.unpack("!cI", _read_exact(tls, 5))
        password = _read_exact(tls, length - 4).rstrip(b"\0").decode()
        self.received.append(password)
        problem = verify_token(password, self.rds_host, self.rds_port, user, self.secret_keys)
        if kind != b"p" or problem:
            self.refusals.append(problem or "no password message")
            tls.sendall(_error('PAM authentication failed for user "%s"' % user))
            return
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as upstream:
            upstream.connect(self.upstream_socket)
            upstream.sendall(_startup_message(user, database))
            self._relay(tls, upstream)

    @staticmethod
    def _relay(tls, upstream):
        while True:
            # Decrypted bytes already buffered in the TLS object do not make its socket readable.
            ready = [tls] if tls.pending() else select.select([tls, upstream], [], [], 30)[0]
            if not ready:
                return
            for source in ready:
                data = source.recv(65536)
                if not data:
                    return
                (upstream if source is tls else tls).sendall(data)
