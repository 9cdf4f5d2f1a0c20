"""What the catalog must say about the migrated schema: indexes, comments, RLS, security."""

# The protected tables are the database's own list, sensa_user_data_tables() (0006), read
# below; what is not user data is pg_migrate's bookkeeping alone.
BOOKKEEPING = {"migrations_log"}
TABLES = ("users", "user_profiles", "courses", "course_documents", "processed_documents", "chapters", "keywords",
          "relationships", "user_annotations", "analogy_feedback", "user_progress", "chapter_complexity",
          "migrations_log")
ENUMS = {"user_role", "document_status", "relationship_type", "annotation_type", "progress_status"}

INDEXES = """
SELECT i.indexrelid::regclass::text AS name, c.relname AS tab, am.amname, i.indisunique,
       i.indkey::int2[] AS keys, i.indclass::oid[] AS opclasses, i.indoption::int2[] AS options,
       coalesce(pg_get_expr(i.indexprs, i.indrelid), '') AS exprs,
       coalesce(pg_get_expr(i.indpred, i.indrelid), '') AS pred
  FROM pg_index i
  JOIN pg_class c ON c.oid = i.indrelid
  JOIN pg_class ic ON ic.oid = i.indexrelid
  JOIN pg_am am ON am.oid = ic.relam
 WHERE c.relnamespace = 'public'::regnamespace
"""


def test_thirteen_tables_and_five_enums(shared_db):
    tables = {r[0] for r in shared_db.query(
        "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'")}
    assert set(TABLES) <= tables
    # audit_log (0003); course_enrolments, analogy_consensus, user_streaks (0006)
    assert tables - set(TABLES) == {"audit_log", "course_enrolments", "analogy_consensus", "user_streaks"}
    enums = {r[0] for r in shared_db.query(
        "SELECT typname FROM pg_type WHERE typnamespace = 'public'::regnamespace AND typtype = 'e'")}
    assert enums == ENUMS


def test_primary_keys_are_uuid_with_gen_random_uuid(shared_db):
    rows = shared_db.query(
        "SELECT table_name, data_type, column_default FROM information_schema.columns "
        "WHERE table_schema = 'public' AND column_name = 'id' AND table_name = ANY(%s)", (list(TABLES),))
    for table, dtype, default in rows:
        if table == "migrations_log":
            continue
        assert dtype == "uuid" and default == "gen_random_uuid()", table


def test_every_table_and_column_has_a_comment(shared_db):
    missing = shared_db.query(
        "SELECT c.relname, a.attname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid "
        "WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND a.attnum > 0 "
        "AND NOT a.attisdropped AND col_description(c.oid, a.attnum) IS NULL")
    assert missing == []
    missing = shared_db.query(
        "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'v') "
        "AND obj_description(oid, 'pg_class') IS NULL")
    assert missing == []


def test_every_foreign_key_has_an_on_delete_rule_and_a_leading_index(shared_db):
    fks = shared_db.query(
        "SELECT conrelid::regclass::text, conname, confdeltype, conkey::int2[] FROM pg_constraint "
        "WHERE contype = 'f' AND connamespace = 'public'::regnamespace")
    assert len(fks) >= 20
    indexes = shared_db.query(INDEXES)
    for table, name, deltype, cols in fks:
        assert deltype in ("c", "n"), "%s: ON DELETE must be CASCADE or SET NULL, not %s" % (name, deltype)
        leading = [ix for ix in indexes if ix[1] == table.split(".")[-1] and ix[3 + 1][:len(cols)] == cols]
        assert leading, "%s: no index leads with the foreign key columns" % name


def test_enough_btree_indexes_and_none_redundant(shared_db):
    indexes = shared_db.query(INDEXES)
    btree = [ix for ix in indexes if ix[2] == "btree"]
    assert len(btree) >= 60, len(btree)
    problems = []
    for a in btree:
        for b in btree:
            if a is b or a[1] != b[1] or a[7] or b[7] or a[8] != b[8]:
                continue
            keys_a, keys_b = a[4], b[4]
            same_prefix = (keys_b[:len(keys_a)] == keys_a and b[5][:len(keys_a)] == a[5]
                           and b[6][:len(keys_a)] == a[6])
            if not same_prefix:
                continue
            if keys_a == keys_b and a[0] < b[0]:
                problems.append("duplicate: %s and %s" % (a[0], b[0]))
            elif len(keys_a) < len(keys_b) and not a[3]:
                problems.append("%s is a left prefix of %s" % (a[0], b[0]))
    # Expression indexes: identical definitions are duplicates too.
    seen = {}
    for ix in indexes:
        key = (ix[1], ix[2], tuple(ix[4]), ix[7], ix[8])
        if ix[7] and key in seen:
            problems.append("duplicate: %s and %s" % (seen[key], ix[0]))
        seen.setdefault(key, ix[0])
    assert problems == []


def test_gin_and_hnsw_indexes(shared_db):
    defs = {r[0]: r[1] for r in shared_db.query(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'")}
    for name in ("courses_title_trgm", "courses_description_trgm", "keywords_term_trgm"):
        assert "USING gin" in defs[name] and "gin_trgm_ops" in defs[name]
    jsonb_gin = [n for n, d in defs.items() if "USING gin" in d and "jsonb_path_ops" in d]
    assert len(jsonb_gin) >= 5
    hnsw = {n: d for n, d in defs.items() if "USING hnsw" in d}
    assert set(hnsw) == {"processed_documents_embedding_hnsw", "keywords_embedding_hnsw"}
    for d in hnsw.values():
        assert "vector_cosine_ops" in d and "m='16'" in d and "ef_construction=" in d


def listed_tables(db):
    return {r[0] for r in db.query("SELECT table_name FROM public.sensa_user_data_tables()")}


def test_rls_enabled_and_forced_on_the_protected_tables(shared_db):
    listed = listed_tables(shared_db)
    rows = dict((r[0], (r[1], r[2])) for r in shared_db.query(
        "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
        "WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'"))
    # Every table but the bookkeeping holds user data: one created without being listed fails here.
    assert BOOKKEEPING < set(rows) and listed == set(rows) - BOOKKEEPING, sorted(set(rows) ^ listed)
    for table in listed:
        assert rows[table] == (True, True), table
    assert {t for t, v in rows.items() if v[0]} == listed


def test_policies_are_scoped_to_their_roles_with_scalar_subselect(shared_db):
    """No policy is written TO PUBLIC (0004's were, and OR-ed admin/analytics into the
    application user's plan); every application policy reads the context once."""
    rows = shared_db.query("SELECT tablename, policyname, cmd, roles::text[], qual, with_check FROM pg_policies "
                           "WHERE schemaname = 'public'")
    assert not [r for r in rows if "public" in r[3]]
    privileges = dict(shared_db.query("SELECT table_name, app_privileges FROM public.sensa_user_data_tables()"))
    assert privileges
    for table in privileges:
        mine = {r[1]: r for r in rows if r[0] == table}
        for cmd in ("SELECT", "INSERT", "UPDATE", "DELETE"):
            app = [r for r in mine.values() if r[2] == cmd and r[3] == ["sensa_app"]]
            assert len(app) == (1 if cmd in privileges[table] else 0), (table, cmd)
            for policy in app:
                for expr in (policy[4], policy[5]):
                    if expr and "current_user_id" in expr:
                        assert "( SELECT current_user_id() AS current_user_id)" in expr, expr
                if cmd in ("INSERT", "UPDATE"):
                    assert policy[5], "%s %s needs WITH CHECK" % (table, cmd)
        admin = mine.get(table + "_admin_all") or mine[table + "_admin_select"]
        assert admin[3] == ["sensa_admin"] and admin[4] == "true"
        if table + "_readonly_select" in mine:
            assert mine[table + "_readonly_select"][3] == ["sensa_readonly"]
        assert mine[table + "_owner_all"][3] == ["sensa_migrator"]


def test_security_definer_functions_pin_search_path_and_revoke_public(shared_db):
    rows = shared_db.query(
        "SELECT p.proname, p.proconfig, has_function_privilege('public', p.oid, 'EXECUTE') "
        "FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace AND p.prosecdef")
    assert {r[0] for r in rows} == {"audit_row_change", "analogy_feedback_consensus", "sensa_course_is_published",
                                    "register_user", "delete_user_account", "course_learner_figures",
                                    "user_streaks_record_activity"}
    for name, config, public_exec in rows:
        assert any(c.startswith("search_path=") for c in (config or [])), name
        assert not public_exec, name


def test_views_over_protected_tables_are_security_invoker(shared_db):
    rows = shared_db.query(
        "SELECT DISTINCT v.relname, v.reloptions FROM pg_class v "
        "JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass "
        "JOIN pg_rewrite rw ON rw.oid = d.objid AND rw.ev_class = v.oid "
        "JOIN pg_class t ON t.oid = d.refobjid AND t.relrowsecurity "
        "WHERE v.relkind = 'v' AND v.relnamespace = 'public'::regnamespace")
    assert rows, "expected at least the user_course_progress view"
    for name, options in rows:
        assert "security_invoker=true" in (options or []), name


def test_table_owner_is_not_the_application_role(shared_db):
    rows = shared_db.query(
        "SELECT relname, pg_get_userbyid(relowner), pg_has_role('sensa_app', relowner, 'USAGE') FROM pg_class "
        "WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'")
    for name, owner, app_has_owner in rows:
        assert owner != "sensa_app" and not app_has_owner, name
    attrs = shared_db.query("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname IN ('sensa_app', %s)",
                            (shared_db.roles.app,))
    assert all(r == (False, False) for r in attrs)


def test_iterative_scan_set_on_similarity_functions(shared_db):
    version = shared_db.scalar("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
    rows = dict(shared_db.query("SELECT proname, proconfig FROM pg_proc WHERE pronamespace = 'public'::regnamespace "
                                "AND proname IN ('find_similar_documents', 'find_similar_keywords')"))
    if tuple(int(x) for x in version.split(".")[:3]) >= (0, 8, 0):
        for name in rows:
            assert "hnsw.iterative_scan=relaxed_order" in (rows[name] or []), name
    assert shared_db.scalar("SELECT count(*) FROM pg_proc WHERE pronamespace = 'public'::regnamespace AND NOT prosecdef "
                            "AND proname IN ('find_similar_documents', 'search_courses', 'get_course_stats')") == 3
