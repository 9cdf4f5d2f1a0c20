-- =============================================================================
-- 20261201_0009_document_search_pool.sql
--
-- What: find_similar_documents' branch over every chunk (admin, analytics, and any
--       caller RLS does not restrict) ranks a pool of index candidates exactly and
--       returns the best match_count, instead of the first match_count rows of the
--       HNSW scan. The pool is 1 in 75 chunks, at least 400 and at most 4,000 (s=3,
--       300,000 chunks: 4,000), gathered with pgvector 0.8's iterative scan
--       (hnsw.iterative_scan = relaxed_order, on the function since 0005/0007),
--       which keeps walking the graph past the ef_search list (400, 0008) until
--       the pool is full or hnsw.max_scan_tuples is reached. Sequential scans are
--       off for that one statement (unless the caller turned index scans off), so
--       the planner cannot swap the pool for a sort of every chunk. The chunks' columns and their course_documents row are
--       read for the returned rows only. An ordinary user's branch (exact ranking
--       over their readable courses' chunks, B-trees) is unchanged.
-- Why:  issue 17 ("Recall per query, not only on average"). At s=3 0008's
--       ef_search 400 still left 8 of 1,000 benchmark queries at recall@10 0 (2 at
--       ef_search 1,000, pgvector's maximum). Those queries' true neighbours are
--       the 20 chunks of the query's course: the walk reached the course's topic
--       (similarity ~0.45) but no visited node linked into the course (~0.6). More
--       links per node do not help (an m = 32 index: 12 such queries at ef_search
--       400). A wider walk does: pools of 3,000 and 4,000 left none under 0.8
--       (2,000: one), at p50 65 / 75 ms against 19 ms (the exact scan: 1,850 ms).
--       The pool scales with the table because the walk it needs does, and small
--       tables stay cheap (s=0.1: 400). docs/benchmarks.md has the measurements
--       (bench/recall_study.py). With pgvector < 0.8 (no iterative scan) the scan
--       ends after ef_search rows and the function behaves as under 0008.
--
-- Idempotent: CREATE OR REPLACE, ALTER FUNCTION (repeatable), a guarded DO block.
-- Runs inside pg_migrate's transaction. Rollback: files/sql/rollbacks/20261201_0009_rollback.sql.
-- -----------------------------------------------------------------------------
-- squawk: require-lock-timeout and require-statement-timeout are waived: pg_migrate
-- sets lock_timeout and statement_timeout (SET LOCAL) before every file it runs.
-- squawk-ignore-file require-lock-timeout, require-statement-timeout
-- =============================================================================

CREATE OR REPLACE FUNCTION public.find_similar_documents(
    query_embedding vector,
    match_count integer DEFAULT 10,
    similarity_threshold double precision DEFAULT 0)
RETURNS TABLE (
    document_id uuid,
    course_document_id uuid,
    course_id uuid,
    chapter_id uuid,
    chunk_index integer,
    content text,
    similarity double precision)
LANGUAGE plpgsql
STABLE
AS $$
#variable_conflict use_column
DECLARE
    seqscan text;
    pool_size bigint;
BEGIN
    IF query_embedding IS NULL THEN
        RAISE EXCEPTION 'query_embedding must not be NULL' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF match_count IS NULL OR match_count NOT BETWEEN 1 AND 1000 THEN
        RAISE EXCEPTION 'match_count must be between 1 and 1000, got %', match_count
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF similarity_threshold IS NULL OR similarity_threshold NOT BETWEEN -1 AND 1 THEN
        RAISE EXCEPTION 'similarity_threshold must be between -1 and 1, got %', similarity_threshold
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    IF NOT pg_catalog.row_security_active('public.courses'::regclass)
       OR public.sensa_is_admin() OR public.sensa_is_readonly() THEN
        -- The pool grows with the table (1 in 75 chunks: 4,000 at 300,000), at least
        -- 400 (0008's search list; also when pg_class does not know the count yet) and
        -- at most 4,000, the largest size measured (docs/benchmarks.md).
        SELECT least(4000, greatest(match_count, 400, c.reltuples::bigint / 75)) INTO pool_size
          FROM pg_catalog.pg_class AS c WHERE c.oid = 'public.processed_documents'::regclass;
        -- At some sizes the planner prices the pool's HNSW scan above reading and sorting
        -- every chunk (4,000 rows of 100,000: a parallel sequential scan, 640 ms a call
        -- against ~70 ms). Sequential scans are off for this statement only: set here and
        -- put back after it (an error ends the transaction or savepoint, which puts it
        -- back too). Without a usable HNSW index the scan is still sequential, and a
        -- caller who turned index scans off (an exact answer, as bench/run.py's truth)
        -- gets the sequential scan.
        seqscan := pg_catalog.current_setting('enable_seqscan');
        IF pg_catalog.current_setting('enable_indexscan')::boolean THEN
            PERFORM pg_catalog.set_config('enable_seqscan', 'off', true);
        END IF;
        RETURN QUERY
        -- The pool is ranked by similarity, an expression the planner does not know
        -- the scan's order for, so the sort reads the whole pool (ordered by distance
        -- again, an incremental sort would stop after match_count rows and the pool
        -- would be pointless).
        WITH pool AS MATERIALIZED (
            SELECT pd.id, 1 - (pd.embedding <=> query_embedding) AS similarity
              FROM public.processed_documents AS pd
             WHERE pd.embedding IS NOT NULL
             ORDER BY pd.embedding <=> query_embedding
             LIMIT pool_size),
        best AS MATERIALIZED (
            SELECT pool.id, pool.similarity
              FROM pool
             WHERE pool.similarity >= similarity_threshold
             ORDER BY pool.similarity DESC, pool.id
             LIMIT match_count)
        SELECT pd.id, pd.course_document_id, d.course_id, pd.chapter_id, pd.chunk_index, pd.content, best.similarity
          FROM best
          JOIN public.processed_documents AS pd ON pd.id = best.id
          JOIN public.course_documents AS d ON d.id = pd.course_document_id
         ORDER BY best.similarity DESC, best.id;
        PERFORM pg_catalog.set_config('enable_seqscan', seqscan, true);
        RETURN;
    END IF;

    RETURN QUERY
    WITH candidates AS MATERIALIZED (
        SELECT pd.id, pd.course_document_id, d.course_id, pd.chapter_id, pd.chunk_index, pd.content,
               pd.embedding <=> query_embedding AS distance
          FROM public.course_documents AS d
          JOIN public.processed_documents AS pd ON pd.course_document_id = d.id
         WHERE d.course_id = ANY (ARRAY(SELECT c.id FROM public.courses AS c))
           AND pd.embedding IS NOT NULL
         ORDER BY pd.embedding <=> query_embedding
         LIMIT match_count)
    SELECT cand.id, cand.course_document_id, cand.course_id, cand.chapter_id, cand.chunk_index, cand.content,
           1 - cand.distance
      FROM candidates AS cand
     WHERE 1 - cand.distance >= similarity_threshold
     ORDER BY cand.distance, cand.id;
END
$$;
COMMENT ON FUNCTION public.find_similar_documents(vector, integer, double precision) IS
    'Up to match_count chunks most similar (cosine) to query_embedding with similarity >= similarity_threshold, '
    'from courses the caller can read; most similar first. Admin/analytics: a pool of 1 in 75 chunks (400 to 4,000) '
    'from processed_documents_embedding_hnsw (iterative scan) ranked exactly; ordinary users: the chunks of their '
    'readable courses (B-trees, exact ranking).';

-- CREATE OR REPLACE dropped the function's settings; they are set again in the
-- order 0007 and 0008 left them (so a rollback of 0009 compares equal).
DO $$
DECLARE
    version integer[];
BEGIN
    SELECT string_to_array(split_part(extversion, '-', 1), '.')::integer[] INTO version
      FROM pg_catalog.pg_extension WHERE extname = 'vector';
    IF version IS NOT NULL THEN
        -- Load pgvector so its hnsw.* settings are known (and validated) here.
        PERFORM '[1]'::vector;
    END IF;
    IF version >= ARRAY[0, 8, 0] THEN
        ALTER FUNCTION public.find_similar_documents(vector, integer, double precision)
            SET hnsw.iterative_scan = 'relaxed_order';
    END IF;
    ALTER FUNCTION public.find_similar_documents(vector, integer, double precision)
        SET search_path = pg_catalog, public;
    IF version IS NOT NULL THEN
        ALTER FUNCTION public.find_similar_documents(vector, integer, double precision)
            SET hnsw.ef_search = 400;
    END IF;
END
$$;
