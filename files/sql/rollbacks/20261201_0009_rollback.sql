-- =============================================================================
-- 20261201_0009_rollback.sql
--
-- What: returns the schema to its 0008 state: find_similar_documents gets back the
--       0007 definition (copied verbatim from 20261201_0007_product_fixes.sql: the
--       branch over every chunk returns the first match_count rows of the HNSW
--       scan) and its comment, with the settings 0007 and 0008 gave it, in that
--       order.
-- Why:  a rollback of 0009 alone must leave exactly what 0008 left
--       (tests/integration/schema/test_migrations.py compares pg_dump output).
--
-- Idempotent: CREATE OR REPLACE, ALTER FUNCTION (repeatable), a guarded DO block.
-- Runs inside pg_migrate's transaction.
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
        RETURN QUERY
        WITH candidates AS MATERIALIZED (
            SELECT pd.id, pd.course_document_id, d.course_id, pd.chapter_id, pd.chunk_index, pd.content,
                   pd.embedding <=> query_embedding AS distance
              FROM public.processed_documents AS pd
              JOIN public.course_documents AS d ON d.id = pd.course_document_id
             WHERE pd.embedding IS NOT NULL
             ORDER BY pd.embedding <=> query_embedding
             LIMIT match_count)
        SELECT cand.id, cand.course_document_id, cand.course_id, cand.chapter_id, cand.chunk_index, cand.content,
               1 - cand.distance
          FROM candidates AS cand
         WHERE 1 - cand.distance >= similarity_threshold
         ORDER BY cand.distance, cand.id;
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
    'from courses the caller can read; most similar first. Admin/analytics: processed_documents_embedding_hnsw over '
    'every chunk; ordinary users: the chunks of their readable courses (B-trees, exact ranking).';

-- CREATE OR REPLACE dropped the function's settings: 0007's iterative scan and
-- search_path, then 0008's ef_search, in the order they had.
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
