"""The statement splitter: psql-compatible splitting with exact line numbers."""

import pytest

from ansible_collections.sensa.infra.plugins.module_utils.sql_lexer import (
    LexError,
    split_statements,
    transaction_violations,
)


def sqls(text):
    return [s.sql for s in split_statements(text)]


def test_simple_statements_and_lines():
    stmts = split_statements("SELECT 1;\n\nSELECT 2;\n  SELECT 3")
    assert [s.sql for s in stmts] == ["SELECT 1", "SELECT 2", "SELECT 3"]
    assert [s.line for s in stmts] == [1, 3, 4]


def test_semicolons_inside_strings_identifiers_and_comments():
    text = "INSERT INTO \"we;ird\" VALUES ('a;b', 'it''s;'); -- c;d\n/* x; /* nested; */ y; */ SELECT 2;"
    # comments between statements are not part of the next statement
    assert sqls(text) == ["INSERT INTO \"we;ird\" VALUES ('a;b', 'it''s;')", "SELECT 2"]


def test_escape_string_with_backslash_quote():
    assert sqls(r"SELECT E'a\';b'; SELECT 2;") == [r"SELECT E'a\';b'", "SELECT 2"]


def test_plain_string_backslash_is_not_an_escape():
    # standard_conforming_strings: 'a\' is a complete literal
    assert sqls("SELECT 'a\\'; SELECT 2;") == ["SELECT 'a\\'", "SELECT 2"]


def test_identifier_ending_in_e_is_not_an_escape_string():
    assert sqls("SELECT name'x' FROM t; SELECT 2;")[1] == "SELECT 2"


def test_dollar_quoted_body_with_semicolons_and_other_tag_inside():
    text = """CREATE FUNCTION f() RETURNS text LANGUAGE plpgsql AS $fn$
BEGIN
  RAISE NOTICE 'a;b';
  RETURN $$inner; $not_the_end$ still$$;
END;
$fn$;
SELECT f();"""
    stmts = split_statements(text)
    assert len(stmts) == 2
    assert stmts[0].sql.endswith("$fn$")
    assert stmts[1].sql == "SELECT f()" and stmts[1].line == 7


def test_positional_parameter_is_not_a_dollar_quote():
    assert sqls("PREPARE p AS SELECT $1; EXECUTE p(1);") == ["PREPARE p AS SELECT $1", "EXECUTE p(1)"]


def test_sql_standard_function_body_keeps_its_semicolons():
    text = """CREATE OR REPLACE FUNCTION add(a int, b int) RETURNS int LANGUAGE sql
BEGIN ATOMIC
  SELECT CASE WHEN a > 0 THEN a ELSE 0 END + b;
  SELECT 1;
END;
SELECT 3;"""
    stmts = sqls(text)
    assert len(stmts) == 2 and stmts[1] == "SELECT 3"


def test_copy_from_stdin_block():
    text = "COPY t (a, b) FROM stdin;\n1\tx;y\n2\t\\N\n\\.\nSELECT 1;\n"
    stmts = split_statements(text)
    assert stmts[0].kind == "copy"
    assert stmts[0].copy_data == "1\tx;y\n2\t\\N\n"
    assert stmts[1].sql == "SELECT 1" and stmts[1].line == 5


def test_meta_commands_from_pg_dump():
    stmts = split_statements("\\restrict abc\nSET x = 1;\n\\unrestrict abc\n")
    assert [(s.kind, s.line) for s in stmts] == [("meta", 1), ("sql", 2), ("meta", 3)]


@pytest.mark.parametrize("text", ["SELECT 'abc", "SELECT \"abc", "SELECT $q$abc", "/* open /* nested */ SELECT 1"])
def test_unterminated_tokens_raise_with_line(text):
    with pytest.raises(LexError) as err:
        split_statements("\n" + text)
    assert err.value.line == 2


def test_copy_without_terminator_raises():
    with pytest.raises(LexError):
        split_statements("COPY t FROM stdin;\n1\n2\n")


@pytest.mark.parametrize(
    "statement, what",
    [
        ("CREATE INDEX CONCURRENTLY i ON t (a)", "CREATE INDEX CONCURRENTLY"),
        ("create unique index concurrently if not exists i on t (a)", "CREATE INDEX CONCURRENTLY"),
        ("DROP INDEX CONCURRENTLY IF EXISTS i", "DROP INDEX CONCURRENTLY"),
        ("REINDEX INDEX CONCURRENTLY i", "REINDEX CONCURRENTLY"),
        ("VACUUM ANALYZE t", "VACUUM"),
        ("CREATE DATABASE x", "CREATE/DROP DATABASE"),
        ("ALTER SYSTEM SET work_mem = '8MB'", "ALTER SYSTEM"),
        ("BEGIN", "explicit transaction control"),
        ("START TRANSACTION", "explicit transaction control"),
        ("COMMIT", "explicit transaction control"),
        ("ROLLBACK", "explicit ROLLBACK"),
        ("ALTER TABLE p DETACH PARTITION c CONCURRENTLY", "DETACH PARTITION CONCURRENTLY"),
    ],
)
def test_transaction_violations_found_with_line(statement, what):
    found = transaction_violations(split_statements("SELECT 1;\n-- comment\n" + statement + ";"))
    assert found and found[0][0] == 3 and found[0][1] == what


def test_allowed_statements_are_not_violations():
    text = "CREATE INDEX i ON t (a); SAVEPOINT s; ROLLBACK TO SAVEPOINT s; RELEASE SAVEPOINT s; " \
           "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN COMMIT; END $$;"
    assert transaction_violations(split_statements(text)) == []


def test_semicolon_inside_parentheses_does_not_end_the_statement():
    """Defect 1: psql splits only at parenthesis depth 0 (a multi-action CREATE RULE)."""
    text = ("CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2));\n"
            "SELECT 2;\n")
    assert sqls(text) == [
        "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2))", "SELECT 2"]


def test_unbalanced_closing_parenthesis_does_not_swallow_the_file():
    assert sqls("SELECT 1);\nSELECT 2;\n") == ["SELECT 1)", "SELECT 2"]


def test_meta_command_after_sql_on_the_same_line_is_its_own_meta_statement():
    """Defect 2: psql ends the query buffer at a backslash outside quotes; the meta-command
    must reach the caller (which refuses it) instead of being folded into the SQL."""
    stmts = split_statements("SELECT 1 AS x \\gset\nSELECT 'a\\b', E'c\\'d';\n")
    assert [(s.kind, s.sql, s.line) for s in stmts] == [
        ("sql", "SELECT 1 AS x", 1), ("meta", "\\gset", 1), ("sql", "SELECT 'a\\b', E'c\\'d'", 2)]
