-- =============================================================================
-- 20261201_0008_rollback.sql
--
-- What: returns the schema to its 0007 state: find_similar_documents and
--       find_similar_keywords lose the hnsw.ef_search setting 0008 gave them
--       (they keep 0007's search_path and hnsw.iterative_scan).
-- Why:  a rollback of 0008 alone must leave exactly what 0007 left
--       (tests/integration/schema/test_migrations.py compares pg_dump output).
--
-- Idempotent: ALTER FUNCTION ... RESET (a no-op when the setting is absent), a
-- guarded DO block. Runs inside pg_migrate's transaction.
-- -----------------------------------------------------------------------------
-- squawk: require-lock-timeout and require-statement-timeout are waived: pg_migrate
-- sets lock_timeout and statement_timeout (SET LOCAL) before every file it runs.
-- squawk-ignore-file require-lock-timeout, require-statement-timeout
-- =============================================================================

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'vector') THEN
        PERFORM '[1]'::vector;
        ALTER FUNCTION public.find_similar_documents(vector, integer, double precision)
            RESET hnsw.ef_search;
        ALTER FUNCTION public.find_similar_keywords(vector, integer, double precision, uuid)
            RESET hnsw.ef_search;
    END IF;
END
$$;
