-- =============================================================================
-- 20261201_0008_hnsw_search_depth.sql
--
-- What: find_similar_documents and find_similar_keywords run with
--       hnsw.ef_search = 400 (a function-level setting, like the
--       hnsw.iterative_scan 0007 gives them), instead of the caller's
--       setting (pgvector's default is 40).
-- Why:  issue 17 ("Recall per query, not only on average"). Over every row
--       (admin, analytics, no RLS) mean recall@10 was 0.98 at ef_search 40, but
--       7 of 200 benchmark queries at s=1 got none of their true top 10. No
--       filter was involved: the plain HNSW scan
--       (ORDER BY embedding <=> q LIMIT 10, nothing else) returned chunks of
--       cosine similarity ~0.1 while the true neighbours were at ~0.64. Course
--       content forms well separated topic clusters, and with a 40-wide search
--       list the graph walk can settle in a cluster the query is orthogonal to
--       and never reach its own (a query either finds its cluster, recall 1.0,
--       or misses it, 0.0). On those 7 queries ef_search 100 fixed 4, 200
--       fixed 5, 400 fixed all 7. The iterative scan (0007) does not help
--       here: it continues a scan whose rows a filter rejects, and no row is
--       rejected. An ordinary user's branch ranks their readable courses'
--       rows exactly from B-trees and is unaffected (its recall was 1.0).
--       The setting is per function, so the caller's session is untouched;
--       a caller cannot lower it (nor raise it) for these two functions.
--       Cost measured in docs/benchmarks.md (issue 17 section).
--
-- Idempotent: ALTER FUNCTION ... SET (repeatable), a guarded DO block.
-- Runs inside pg_migrate's transaction. Rollback: files/sql/rollbacks/20261201_0008_rollback.sql.
-- -----------------------------------------------------------------------------
-- squawk: require-lock-timeout and require-statement-timeout are waived: pg_migrate
-- sets lock_timeout and statement_timeout (SET LOCAL) before every file it runs.
-- squawk-ignore-file require-lock-timeout, require-statement-timeout
-- =============================================================================

-- hnsw.ef_search exists since pgvector 0.5.0, the first release with HNSW (the
-- extensions stage requires it). Guarded like 0007's block: without pgvector the
-- functions could not exist either.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'vector') THEN
        -- Load pgvector so its hnsw.* settings are known (and validated) here.
        PERFORM '[1]'::vector;
        ALTER FUNCTION public.find_similar_documents(vector, integer, double precision)
            SET hnsw.ef_search = 400;
        ALTER FUNCTION public.find_similar_keywords(vector, integer, double precision, uuid)
            SET hnsw.ef_search = 400;
    END IF;
END
$$;
