# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Sensa Learn platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PostgreSQL SCRAM-SHA-256 password verifiers, computed and checked on the control node.

PostgreSQL stores a SCRAM password as::

    SCRAM-SHA-256$<iterations>:<salt base64>$<StoredKey base64>:<ServerKey base64>

(RFC 5802 section 3 with SHA-256 as in RFC 7677). When ``ALTER ROLE ... PASSWORD`` is
given a string already in that form, the server stores it verbatim, so the plaintext
password never travels to the server, its logs or pg_stat_statements.

Password preparation follows PostgreSQL's ``pg_saslprep()`` (src/common/saslprep.c):

* a pure-ASCII password is used as is (no mapping, no checks);
* otherwise SASLprep (RFC 4013) is applied; if the password is not valid UTF-8 or
  SASLprep rejects it (prohibited or unassigned code points, bidi rules), PostgreSQL
  falls back to the raw bytes, and so do we.

Standard library only: this file runs inside Ansible modules on the controller.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import hmac
import os
import re
import stringprep
import unicodedata

SCRAM_PREFIX = "SCRAM-SHA-256"
DEFAULT_ITERATIONS = 4096  # PostgreSQL's scram_iterations default
DEFAULT_SALT_BYTES = 16  # PostgreSQL's SCRAM_DEFAULT_SALT_LEN

_VERIFIER = re.compile(
    r"^SCRAM-SHA-256\$(?P<iterations>[0-9]+):(?P<salt>[A-Za-z0-9+/=]+)"
    r"\$(?P<stored_key>[A-Za-z0-9+/=]+):(?P<server_key>[A-Za-z0-9+/=]+)$"
)


class ScramVerifier(object):
    """A parsed verifier; ``str()`` gives PostgreSQL's text form back."""

    def __init__(self, iterations, salt, stored_key, server_key):
        self.iterations = iterations
        self.salt = salt
        self.stored_key = stored_key
        self.server_key = server_key

    def __str__(self):
        return "%s$%d:%s$%s:%s" % (
            SCRAM_PREFIX,
            self.iterations,
            _b64(self.salt),
            _b64(self.stored_key),
            _b64(self.server_key),
        )

    def __eq__(self, other):
        return isinstance(other, ScramVerifier) and str(self) == str(other)

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return hash(str(self))


def _b64(raw):
    return base64.b64encode(raw).decode("ascii")


def _prohibited(char):
    return (
        stringprep.in_table_c12(char)
        or stringprep.in_table_c21_c22(char)
        or stringprep.in_table_c3(char)
        or stringprep.in_table_c4(char)
        or stringprep.in_table_c5(char)
        or stringprep.in_table_c6(char)
        or stringprep.in_table_c7(char)
        or stringprep.in_table_c8(char)
        or stringprep.in_table_c9(char)
        or stringprep.in_table_a1(char)
    )


def saslprep(password):
    """Return the bytes PostgreSQL hashes for ``password`` (str or bytes).

    Mirrors pg_saslprep() and its callers: ASCII passes through; non-ASCII goes through
    SASLprep; anything SASLprep refuses is used raw.
    """
    if isinstance(password, bytes):
        raw = password
        try:
            text = password.decode("utf-8")
        except UnicodeDecodeError:
            return raw
    else:
        text = password
        raw = password.encode("utf-8")
    if all(ord(c) < 0x80 for c in text):
        return raw
    # RFC 4013 2.1 mapping: non-ASCII spaces to SPACE, "commonly mapped to nothing" removed.
    mapped = "".join(" " if stringprep.in_table_c12(c) else c for c in text if not stringprep.in_table_b1(c))
    prepared = unicodedata.normalize("NFKC", mapped)
    if any(_prohibited(c) for c in prepared):
        return raw
    # RFC 3454 section 6: bidirectional characters.
    if any(stringprep.in_table_d1(c) for c in prepared):
        if any(stringprep.in_table_d2(c) for c in prepared):
            return raw
        if not (stringprep.in_table_d1(prepared[0]) and stringprep.in_table_d1(prepared[-1])):
            return raw
    return prepared.encode("utf-8")


def salted_password(password, salt, iterations):
    return hashlib.pbkdf2_hmac("sha256", saslprep(password), salt, iterations)


def client_key(salted):
    return hmac.new(salted, b"Client Key", hashlib.sha256).digest()


def server_key(salted):
    return hmac.new(salted, b"Server Key", hashlib.sha256).digest()


def stored_key(salted):
    return hashlib.sha256(client_key(salted)).digest()


def build_verifier(password, salt=None, iterations=DEFAULT_ITERATIONS):
    """Compute the PostgreSQL SCRAM-SHA-256 verifier text for ``password``.

    ``salt`` (bytes) defaults to 16 random bytes from the OS CSPRNG, as PostgreSQL does.
    """
    if iterations < 1:
        raise ValueError("SCRAM iterations must be a positive integer")
    if salt is None:
        salt = os.urandom(DEFAULT_SALT_BYTES)
    salted = salted_password(password, salt, iterations)
    return str(ScramVerifier(iterations, salt, stored_key(salted), server_key(salted)))


def parse_verifier(text):
    """A ScramVerifier for PostgreSQL's text form, or None when ``text`` is not one (md5, NULL, junk)."""
    if not text:
        return None
    match = _VERIFIER.match(text)
    if not match:
        return None
    try:
        return ScramVerifier(
            int(match.group("iterations")),
            base64.b64decode(match.group("salt"), validate=True),
            base64.b64decode(match.group("stored_key"), validate=True),
            base64.b64decode(match.group("server_key"), validate=True),
        )
    except (ValueError, TypeError):
        return None


def is_verifier(text):
    return parse_verifier(text) is not None


def verify_password(password, verifier_text):
    """True when ``password`` is the one behind ``verifier_text`` (constant-time compare).

    Recomputes with the verifier's own salt and iteration count, which is how the server
    authenticates, so a password set earlier with any salt compares equal.
    """
    parsed = parse_verifier(verifier_text)
    if parsed is None:
        return False
    salted = salted_password(password, parsed.salt, parsed.iterations)
    return hmac.compare_digest(stored_key(salted), parsed.stored_key) and hmac.compare_digest(
        server_key(salted), parsed.server_key
    )
