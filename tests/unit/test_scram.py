"""SCRAM-SHA-256 verifiers: PostgreSQL's own output, the RFC 7677 exchange, edge cases.

The PostgreSQL vectors were produced by the server itself (PostgreSQL 18.6, embedded engine):
``SET password_encryption = 'scram-sha-256'; CREATE ROLE x PASSWORD '<pw>'`` then
``SELECT rolpassword FROM pg_authid``. Recomputing with the same salt and iteration count
must give the identical text. tests/integration/rotation/test_scram_server.py repeats this
live against both engines.
"""

import base64
import hashlib
import hmac

import pytest

from ansible_collections.sensa.infra.plugins.module_utils import scram

POSTGRES_VECTORS = [
    ("pencil",
     "SCRAM-SHA-256$4096:/lst4wB8qrAJt5FLjDAqqg==$euTd5WRjRfZeT+9OYeF8OniclGRFMwicooWQpyv1aRY=:"
     "IjD7BMdj1gJ/b0Awfu6kLqvDGHsHlhS187ARRJGs1N8="),
    ("correct horse battery staple",
     "SCRAM-SHA-256$4096:ioghsUH8INsJy8ZEk/ViuQ==$JRPS+ypSsq2f2zC2rusTZPmtcEvUKJSgBtz1fdFze1s=:"
     "1y9WrmGOJeDJ4s3ymWX+e8BGHNj1zRak8+DnqCOROcQ="),
    # non-ASCII: SASLprep (NFKC) applies
    (u"p\u00e4ssw\u00f6rd",
     "SCRAM-SHA-256$4096:eMTES2xLhWirBIfWVsRJQg==$Rl7aUtqlsM/wTj0+/9TLVnMnB46Ueg10pKIJ8osD5B8=:"
     "QH+QKVKvDxr4WCzYqnJ45oO8G8sXjySUAbRk6AOB3jk="),
    # SOFT HYPHEN is "mapped to nothing" (RFC 4013 2.1 / table B.1)
    (u"I\u00adX",
     "SCRAM-SHA-256$4096:tWrXh3r5Z612lu8FgtsXEA==$FTAuhyVAXtTG71JSFbmYJQQ4zS0IAdoDESmKzC5BnuA=:"
     "f1Shl+E2+bIFEsbW8bIqhAqx/Tyaxqc3WDjipozPDc0="),
    # ROMAN NUMERAL NINE: NFKC turns it into "IX"
    (u"\u2168",
     "SCRAM-SHA-256$4096:+efFOEp0k8y1mpoBMHUfLA==$r0vvej0pHZRTrs0BbS115F2s7gCcY3uxmv4VVaHurQQ=:"
     "YodJSMpkGlKH1x4xscZrgkCxkA5Q0JPWhNMj/4oKjaU="),
]


@pytest.mark.parametrize("password,verifier", POSTGRES_VECTORS)
def test_recompute_postgres_verifier(password, verifier):
    parsed = scram.parse_verifier(verifier)
    assert parsed is not None
    assert scram.build_verifier(password, salt=parsed.salt, iterations=parsed.iterations) == verifier


@pytest.mark.parametrize("password,verifier", POSTGRES_VECTORS)
def test_verify_password_against_postgres_verifier(password, verifier):
    assert scram.verify_password(password, verifier)
    assert not scram.verify_password(password + "x", verifier)


def test_rfc7677_exchange():
    """RFC 7677 section 3: user 'user', password 'pencil'; our keys reproduce proof and signature."""
    salt = base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ==")
    salted = scram.salted_password("pencil", salt, 4096)
    auth_message = (
        "n=user,r=rOprNGfwEbeRWgbNEkqO,"
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,"
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
    ).encode()
    ckey = scram.client_key(salted)
    signature = hmac.new(scram.stored_key(salted), auth_message, hashlib.sha256).digest()
    proof = bytes(a ^ b for a, b in zip(ckey, signature))
    assert base64.b64encode(proof).decode() == "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
    server_sig = hmac.new(scram.server_key(salted), auth_message, hashlib.sha256).digest()
    assert base64.b64encode(server_sig).decode() == "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="


def test_random_salt_and_format():
    a = scram.build_verifier("same password")
    b = scram.build_verifier("same password")
    assert a != b, "each verifier gets a fresh 16-byte salt"
    parsed = scram.parse_verifier(a)
    assert parsed.iterations == 4096 and len(parsed.salt) == 16
    assert len(parsed.stored_key) == 32 and len(parsed.server_key) == 32
    assert str(parsed) == a
    assert scram.verify_password("same password", a) and scram.verify_password("same password", b)


def test_custom_iterations():
    v = scram.build_verifier("pw", salt=b"0123456789abcdef", iterations=10000)
    assert v.startswith("SCRAM-SHA-256$10000:")
    assert scram.verify_password("pw", v)
    with pytest.raises(ValueError):
        scram.build_verifier("pw", iterations=0)


@pytest.mark.parametrize("text", [None, "", "md5" + "0" * 32, "SCRAM-SHA-256$x:abc$def:ghi",
                                  "SCRAM-SHA-256$4096:!!!$a:b", "plain password"])
def test_not_a_verifier(text):
    assert scram.parse_verifier(text) is None
    assert not scram.is_verifier(text)
    assert not scram.verify_password("anything", text)


def test_saslprep_rules():
    assert scram.saslprep("plain ascii\x01") == b"plain ascii\x01"  # ASCII untouched, as pg_saslprep
    assert scram.saslprep(u"I\u00adX") == b"IX"
    assert scram.saslprep(u"a\u00a0b") == b"a b"  # non-ASCII space -> SPACE
    assert scram.saslprep(u"\u2168") == b"IX"
    # prohibited (a control character among non-ASCII): PostgreSQL falls back to the raw bytes
    assert scram.saslprep(u"\u00e4\u0007") == u"\u00e4\u0007".encode("utf-8")
    # bidi violation (RandALCat mixed with LCat): raw bytes
    assert scram.saslprep(u"\u05d0a") == u"\u05d0a".encode("utf-8")
    # invalid UTF-8 bytes: used raw
    assert scram.saslprep(b"\xff\xfe") == b"\xff\xfe"
