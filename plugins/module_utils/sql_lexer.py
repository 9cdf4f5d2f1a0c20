# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Sensa Learn platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A PostgreSQL-aware splitter for migration files.

It splits a file into statements the way psql does, so a file runs statement by statement
with exact line numbers for errors. It understands:

* ``'...'`` strings (``''`` escapes), ``E'...'`` strings (backslash escapes),
  ``"..."`` quoted identifiers, ``$tag$ ... $tag$`` dollar quotes with any tag;
* ``--`` comments and nested ``/* /* */ */`` block comments;
* SQL-standard function bodies (``BEGIN ATOMIC ... END``), which contain semicolons;
* parentheses: like psql, a ``;`` only ends a statement at parenthesis depth 0
  (``CREATE RULE ... DO ALSO (INSERT ...; INSERT ...)``);
* ``COPY ... FROM stdin;`` followed by its data up to a ``\\.`` line (plain pg_dump output);
* psql meta-commands (``\\restrict`` / ``\\unrestrict``, which pg_dump 17.6+ writes, or any
  other) are returned as ``meta`` statements for the caller to judge. As in psql, a
  backslash outside quotes and comments starts one even after SQL on the same line
  (``SELECT 1 AS x \\gset``): the SQL before it becomes its own statement.

It does not need a server and is pure standard library.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re


class LexError(Exception):
    """An unterminated string, identifier, comment or COPY block; .line says where."""

    def __init__(self, message, line):
        super(LexError, self).__init__("line %d: %s" % (line, message))
        self.line = line


class Statement:
    """One statement: ``kind`` is ``sql``, ``copy`` (with ``copy_data``) or ``meta``."""

    __slots__ = ("sql", "line", "kind", "copy_data")

    def __init__(self, sql, line, kind="sql", copy_data=None):
        self.sql = sql
        self.line = line
        self.kind = kind
        self.copy_data = copy_data

    def __repr__(self):
        return "Statement(line=%d, kind=%s, sql=%r)" % (self.line, self.kind, self.sql[:60])

    @property
    def keywords(self):
        """The leading words of the statement, upper-cased, comments removed."""
        return leading_keywords(self.sql, count=10)


_IDENT_CHAR = re.compile(r"[A-Za-z0-9_$\x80-\uffff]")
_DOLLAR_TAG = re.compile(r"\$([A-Za-z_\x80-\uffff][A-Za-z0-9_\x80-\uffff]*)?\$")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ROUTINE_START = re.compile(r"^CREATE\s+(OR\s+REPLACE\s+)?(FUNCTION|PROCEDURE)\b", re.I)
_COPY_FROM_STDIN = re.compile(r"^COPY\b.*\bFROM\s+STDIN\b", re.I | re.S)


def _is_ident_char(ch):
    return bool(ch) and bool(_IDENT_CHAR.match(ch))


def split_statements(text):
    """Split ``text`` into a list of :class:`Statement`. Raises :class:`LexError`."""
    statements = []
    n = len(text)
    i = 0
    line = 1
    buf_start = None  # index where the current statement's first token starts
    buf_line = None
    depth = 0  # BEGIN ATOMIC / CASE nesting inside a routine body
    parens = 0  # parenthesis depth: psql ends a statement only at depth 0
    routine = None  # None = not yet known for this statement, True/False once decided

    def flush(end):
        sql = text[buf_start:end].strip()
        return Statement(sql, buf_line) if sql else None

    while i < n:
        ch = text[i]
        nxt = text[i + 1] if i + 1 < n else ""

        if ch == "\n":
            line += 1
            i += 1
            continue
        if ch in " \t\r\f\v":
            i += 1
            continue

        # psql meta-command: a backslash outside quotes and comments, to end of line. After
        # SQL on the same line (``SELECT 1 \\gset``) psql sends that SQL first: so do we.
        if ch == "\\":
            if buf_start is not None:
                stmt = flush(i)
                if stmt is not None:
                    statements.append(stmt)
                buf_start = None
            end = text.find("\n", i)
            end = n if end == -1 else end
            statements.append(Statement(text[i:end].strip(), line, kind="meta"))
            i = end
            continue

        if ch == "-" and nxt == "-":
            end = text.find("\n", i)
            i = n if end == -1 else end
            continue

        if ch == "/" and nxt == "*":
            start_line = line
            level = 1
            i += 2
            while i < n and level:
                if text.startswith("/*", i):
                    level += 1
                    i += 2
                elif text.startswith("*/", i):
                    level -= 1
                    i += 2
                else:
                    if text[i] == "\n":
                        line += 1
                    i += 1
            if level:
                raise LexError("unterminated block comment", start_line)
            continue

        if buf_start is None:
            buf_start = i
            buf_line = line
            depth = 0
            parens = 0
            routine = None

        if ch == "'":
            escape = i > 0 and text[i - 1] in "eE" and (i < 2 or not _is_ident_char(text[i - 2])) and i - 1 >= buf_start
            i, line = _skip_quoted(text, i, line, "'", backslash=escape)
            continue
        if ch == '"':
            i, line = _skip_quoted(text, i, line, '"', backslash=False)
            continue
        if ch == "$" and not (i > 0 and _is_ident_char(text[i - 1])):
            match = _DOLLAR_TAG.match(text, i)
            if match:
                tag = match.group(0)
                close = text.find(tag, match.end())
                if close == -1:
                    raise LexError("unterminated dollar-quoted string %s" % tag, line)
                line += text.count("\n", i, close + len(tag))
                i = close + len(tag)
                continue

        if ch == "(":
            parens += 1
            i += 1
            continue
        if ch == ")":
            parens = max(0, parens - 1)
            i += 1
            continue

        if ch == ";":
            if parens > 0:
                i += 1
                continue
            if routine is None:
                routine = bool(_ROUTINE_START.match(leading_sql(text[buf_start:i])))
            if depth > 0 and routine:
                i += 1
                continue
            stmt = flush(i)
            i += 1
            buf_start = None
            if stmt is None:
                continue
            if _COPY_FROM_STDIN.match(leading_sql(stmt.sql)):
                i, line = _read_copy_data(text, i, line, stmt)
            statements.append(stmt)
            continue

        if ch.isalpha() or ch == "_":
            match = _WORD.match(text, i)
            word = match.group(0).upper()
            if word in ("BEGIN", "CASE", "END"):
                if routine is None:
                    routine = bool(_ROUTINE_START.match(leading_sql(text[buf_start:i])))
                if routine:
                    if word == "END":
                        depth = max(0, depth - 1)
                    else:
                        depth += 1
            i = match.end()
            continue

        i += 1

    if buf_start is not None:
        stmt = flush(n)
        if stmt is not None:
            statements.append(stmt)
    return statements


def _skip_quoted(text, i, line, quote, backslash):
    start_line = line
    i += 1
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\n":
            line += 1
        if backslash and ch == "\\":
            i += 2
            continue
        if ch == quote:
            if i + 1 < n and text[i + 1] == quote:
                i += 2
                continue
            return i + 1, line
        i += 1
    what = "quoted identifier" if quote == '"' else "string literal"
    raise LexError("unterminated %s" % what, start_line)


def _read_copy_data(text, i, line, stmt):
    """Consume COPY data after ``COPY ... FROM stdin;`` up to the ``\\.`` line."""
    eol = text.find("\n", i)
    if eol == -1:
        raise LexError("COPY FROM stdin without data", stmt.line)
    line += 1
    pos = eol + 1
    data_lines = []
    while True:
        end = text.find("\n", pos)
        row = text[pos:] if end == -1 else text[pos:end]
        if row.rstrip("\r") == "\\.":
            stmt.kind = "copy"
            stmt.copy_data = "".join(data_lines)
            line += 1
            return (len(text) if end == -1 else end + 1), line
        if end == -1:
            raise LexError("COPY data is not terminated by a \\. line", stmt.line)
        data_lines.append(row + "\n")
        line += 1
        pos = end + 1


def leading_sql(sql):
    """``sql`` with leading whitespace and comments removed."""
    i = 0
    n = len(sql)
    while i < n:
        if sql[i].isspace():
            i += 1
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end == -1 else end + 1
        elif sql.startswith("/*", i):
            level, i = 1, i + 2
            while i < n and level:
                if sql.startswith("/*", i):
                    level, i = level + 1, i + 2
                elif sql.startswith("*/", i):
                    level, i = level - 1, i + 2
                else:
                    i += 1
        else:
            break
    return sql[i:]


def leading_keywords(sql, count=6):
    """The first ``count`` words of a statement, upper-cased (comments and quotes skipped)."""
    words = []
    text = leading_sql(sql)
    for match in re.finditer(r"[A-Za-z_][A-Za-z0-9_]*|\"[^\"]*\"|'[^']*'|\S", text):
        token = match.group(0)
        if token.startswith(("/*", "--")):
            break
        words.append(token.upper())
        if len(words) >= count:
            break
    return words


# Statements PostgreSQL refuses inside a transaction block, and transaction control that
# would break the runner's own transaction. Each entry: (predicate over leading keywords, why).
def _has_concurrently(words):
    return "CONCURRENTLY" in words


NON_TRANSACTIONAL_RULES = (
    (lambda w: w[:1] == ["CREATE"] and "INDEX" in w[:3] and _has_concurrently(w), "CREATE INDEX CONCURRENTLY"),
    (lambda w: w[:2] == ["DROP", "INDEX"] and _has_concurrently(w), "DROP INDEX CONCURRENTLY"),
    (lambda w: w[:1] == ["REINDEX"] and _has_concurrently(w), "REINDEX CONCURRENTLY"),
    (lambda w: w[:1] == ["VACUUM"], "VACUUM"),
    (lambda w: w[:2] in (["CREATE", "DATABASE"], ["DROP", "DATABASE"]), "CREATE/DROP DATABASE"),
    (lambda w: w[:2] in (["CREATE", "TABLESPACE"], ["DROP", "TABLESPACE"]), "CREATE/DROP TABLESPACE"),
    (lambda w: w[:2] == ["ALTER", "SYSTEM"], "ALTER SYSTEM"),
    (lambda w: w[:1] == ["CLUSTER"] and (len(w) == 1 or w[1] == ";"), "CLUSTER without a table"),
    (lambda w: w[:2] in (["CREATE", "SUBSCRIPTION"], ["DROP", "SUBSCRIPTION"]), "CREATE/DROP SUBSCRIPTION"),
    (lambda w: w[:2] == ["ALTER", "TABLE"] and "DETACH" in w and _has_concurrently(w), "DETACH PARTITION CONCURRENTLY"),
)

TRANSACTION_CONTROL = (
    (lambda w: w[:1] in (["BEGIN"], ["START"], ["COMMIT"], ["END"], ["ABORT"]), "explicit transaction control"),
    (lambda w: w[:1] == ["ROLLBACK"] and "TO" not in w[:3] and "PREPARED" not in w[:2], "explicit ROLLBACK"),
    (lambda w: w[:2] == ["PREPARE", "TRANSACTION"] or w[:2] in (["COMMIT", "PREPARED"], ["ROLLBACK", "PREPARED"]),
     "two-phase commit"),
)


def transaction_violations(statements):
    """[(line, what, first words)] for statements that cannot run in a transaction block."""
    found = []
    for stmt in statements:
        if stmt.kind != "sql":
            continue
        words = stmt.keywords
        for rules in (NON_TRANSACTIONAL_RULES, TRANSACTION_CONTROL):
            for predicate, what in rules:
                if words and predicate(words):
                    found.append((stmt.line, what, " ".join(words[:4])))
                    break
    return found
