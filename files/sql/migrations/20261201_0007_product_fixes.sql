-- =============================================================================
-- 20261201_0007_product_fixes.sql
--
-- What: the product fixes of issue 12's review, and the 0005 functions adapted
--       to the visibility model of 0006:
--   * find_similar_documents_in_course(): similarity search within one course,
--     driven by the course's documents (B-trees), exact ranking of its chunks;
--   * chapters can be reordered in one statement: the unique (course_id,
--     position) becomes DEFERRABLE INITIALLY IMMEDIATE (checked at the end of
--     each statement instead of row by row);
--   * every SECURITY INVOKER function that names objects outside pg_catalog
--     pins search_path = pg_catalog, public, so it works whatever the caller's
--     search_path (the rest only call pg_catalog or schema-qualify everything);
--   * generate_cache_key is STABLE, not IMMUTABLE: it calls convert_to(), which
--     is STABLE (it depends on the server encoding);
--   * the statistics functions are PARALLEL SAFE (read-only, no set_config);
--   * find_similar_documents, find_similar_keywords and search_keywords: an
--     ordinary user's branch covers every course they can read (own and
--     enrolled), not only the courses they own; get_user_progress_summary
--     reports the streak over all courses (user_streaks).
-- Why:  issue 12 ("Product fixes from the review"); the 0005 branches wrote out
--       "c.owner_id = current_user_id()", which 0006's model made too narrow.
--
-- Idempotent: CREATE OR REPLACE, ALTER FUNCTION (repeatable), a guarded DO block.
-- Runs inside pg_migrate's transaction. Rollback: files/sql/rollbacks/20261201_0007_rollback.sql.
-- -----------------------------------------------------------------------------
-- squawk: require-lock-timeout and require-statement-timeout are waived: pg_migrate
-- sets lock_timeout and statement_timeout (SET LOCAL) before every file it runs.
-- squawk-ignore-file require-lock-timeout, require-statement-timeout
-- =============================================================================

-- -----------------------------------------------------------------------------
-- Chapters reorder in one statement. A deferrable unique constraint cannot be
-- altered in place, so it is re-created (guarded: only while it is not
-- deferrable). The index build holds chapters' lock for the build only (25,000
-- rows at s=1: tens of milliseconds), under pg_migrate's lock_timeout.
-- No statement uses (course_id, position) as an ON CONFLICT arbiter, which a
-- deferrable constraint could not serve.
-- -----------------------------------------------------------------------------
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_constraint AS c
                WHERE c.conrelid = 'public.chapters'::regclass AND c.conname = 'chapters_course_position_key'
                  AND NOT c.condeferrable) THEN
        ALTER TABLE public.chapters DROP CONSTRAINT chapters_course_position_key;
        ALTER TABLE public.chapters ADD CONSTRAINT chapters_course_position_key
            UNIQUE (course_id, position) DEFERRABLE INITIALLY IMMEDIATE;
    END IF;
END
$$;
COMMENT ON CONSTRAINT chapters_course_position_key ON public.chapters IS
    'One chapter per position in a course; checked at the end of each statement, so '
    'UPDATE chapters SET position = ... reorders a course in one statement.';

-- -----------------------------------------------------------------------------
-- Per-course document similarity. The course's documents (course_documents
-- course_id B-tree) and their chunks (processed_documents_document_chunk_key)
-- bound the work; the chunks of one course (tens to a few hundred) are ranked
-- exactly. RLS applies: a course the caller cannot read yields nothing.
-- -----------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION public.find_similar_documents_in_course(
    p_course_id uuid,
    query_embedding vector,
    match_count integer DEFAULT 10,
    similarity_threshold double precision DEFAULT 0)
RETURNS TABLE (
    document_id uuid,
    course_document_id uuid,
    chapter_id uuid,
    chunk_index integer,
    content text,
    similarity double precision)
LANGUAGE plpgsql
STABLE
PARALLEL SAFE
SET search_path = pg_catalog, public
AS $$
#variable_conflict use_column
BEGIN
    IF p_course_id IS NULL OR query_embedding IS NULL THEN
        RAISE EXCEPTION 'p_course_id and query_embedding must not be NULL' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF match_count IS NULL OR match_count NOT BETWEEN 1 AND 1000 THEN
        RAISE EXCEPTION 'match_count must be between 1 and 1000, got %', match_count
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF similarity_threshold IS NULL OR similarity_threshold NOT BETWEEN -1 AND 1 THEN
        RAISE EXCEPTION 'similarity_threshold must be between -1 and 1, got %', similarity_threshold
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN QUERY
    SELECT cand.id, cand.course_document_id, cand.chapter_id, cand.chunk_index, cand.content, 1 - cand.distance
      FROM (SELECT pd.id, pd.course_document_id, pd.chapter_id, pd.chunk_index, pd.content,
                   pd.embedding <=> query_embedding AS distance
              FROM public.course_documents AS d
              JOIN public.processed_documents AS pd ON pd.course_document_id = d.id
             WHERE d.course_id = p_course_id
               AND pd.embedding IS NOT NULL
             ORDER BY pd.embedding <=> query_embedding, pd.id
             LIMIT match_count) AS cand
     WHERE 1 - cand.distance >= similarity_threshold
     ORDER BY cand.distance, cand.id;
END
$$;
COMMENT ON FUNCTION public.find_similar_documents_in_course(uuid, vector, integer, double precision) IS
    'Up to match_count chunks of one course most similar (cosine) to query_embedding, with similarity >= '
    'similarity_threshold; exact ranking of that course''s chunks via its documents (B-trees). Nothing for a course '
    'the caller cannot read.';

-- -----------------------------------------------------------------------------
-- The 0005 search functions for the 0006 model. The ordinary-user branch now
-- names the courses the caller can read: ARRAY(SELECT id FROM courses) under the
-- caller's RLS (own courses, or enrolled while published), an InitPlan whose
-- = ANY is an index condition. Admin/analytics/no-RLS callers keep the branch
-- over every row.
-- -----------------------------------------------------------------------------
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

CREATE OR REPLACE FUNCTION public.find_similar_keywords(
    query_embedding vector,
    match_count integer DEFAULT 10,
    similarity_threshold double precision DEFAULT 0,
    course_filter uuid DEFAULT NULL)
RETURNS TABLE (
    keyword_id uuid,
    course_id uuid,
    term text,
    definition text,
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
            SELECT k.id, k.course_id, k.term, k.definition, k.embedding <=> query_embedding AS distance
              FROM public.keywords AS k
             WHERE k.embedding IS NOT NULL
               AND (course_filter IS NULL OR k.course_id = course_filter)
             ORDER BY k.embedding <=> query_embedding
             LIMIT match_count)
        SELECT cand.id, cand.course_id, cand.term, cand.definition, 1 - cand.distance
          FROM candidates AS cand
         WHERE 1 - cand.distance >= similarity_threshold
         ORDER BY cand.distance, cand.id;
        RETURN;
    END IF;

    RETURN QUERY
    WITH candidates AS MATERIALIZED (
        SELECT k.id, k.course_id, k.term, k.definition, k.embedding <=> query_embedding AS distance
          FROM public.keywords AS k
         WHERE k.embedding IS NOT NULL
           AND (course_filter IS NULL OR k.course_id = course_filter)
           AND k.course_id = ANY (ARRAY(SELECT c.id FROM public.courses AS c))
         ORDER BY k.embedding <=> query_embedding
         LIMIT match_count)
    SELECT cand.id, cand.course_id, cand.term, cand.definition, 1 - cand.distance
      FROM candidates AS cand
     WHERE 1 - cand.distance >= similarity_threshold
     ORDER BY cand.distance, cand.id;
END
$$;
COMMENT ON FUNCTION public.find_similar_keywords(vector, integer, double precision, uuid) IS
    'Up to match_count keywords most similar (cosine) to query_embedding, optionally within one course, from courses '
    'the caller can read; most similar first. keywords_embedding_hnsw over every keyword (admin/analytics), the '
    'course index for a course filter or an ordinary user.';

-- CREATE OR REPLACE dropped the settings 0005 gave these two; same block as 0005.
-- pgvector >= 0.8.0: iterative index scans keep an HNSW scan going when the
-- visibility/course filter rejects candidates, instead of returning fewer than
-- match_count rows. Set per function so the caller's session is untouched.
DO $$
DECLARE
    version integer[];
BEGIN
    SELECT string_to_array(split_part(extversion, '-', 1), '.')::integer[] INTO version
      FROM pg_catalog.pg_extension WHERE extname = 'vector';
    IF version >= ARRAY[0, 8, 0] THEN
        -- Load pgvector so its hnsw.* settings are known (and validated) here.
        PERFORM '[1]'::vector;
        ALTER FUNCTION public.find_similar_documents(vector, integer, double precision)
            SET hnsw.iterative_scan = 'relaxed_order';
        ALTER FUNCTION public.find_similar_keywords(vector, integer, double precision, uuid)
            SET hnsw.iterative_scan = 'relaxed_order';
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION public.search_keywords(p_query text, p_course_id uuid DEFAULT NULL, p_limit integer DEFAULT 20)
RETURNS TABLE (
    keyword_id uuid,
    course_id uuid,
    term text,
    definition text,
    relevance real)
LANGUAGE plpgsql
STABLE
SET plan_cache_mode = force_custom_plan
AS $$
#variable_conflict use_column
BEGIN
    -- force_custom_plan and the two statements: see 0005.
    IF NOT pg_catalog.row_security_active('public.courses'::regclass)
       OR public.sensa_is_admin() OR public.sensa_is_readonly() THEN
        RETURN QUERY
        SELECT k.id, k.course_id, k.term, k.definition, similarity(k.term, p_query) AS relevance
          FROM public.keywords AS k
         WHERE k.term % p_query
           AND (p_course_id IS NULL OR k.course_id = p_course_id)
         ORDER BY relevance DESC, k.term, k.id
         LIMIT greatest(least(p_limit, 100), 1);
        RETURN;
    END IF;

    -- Ordinary users: driven from the courses they can read (their RLS on courses
    -- is a BitmapOr of the owner and primary-key indexes), then each course's
    -- keywords (course B-tree), the trigram test on those (OFFSET 0 keeps the order).
    RETURN QUERY
    SELECT m.id, c.id, m.term, m.definition, m.relevance
      FROM public.courses AS c
     CROSS JOIN LATERAL (
           SELECT k.id, k.term, k.definition, similarity(k.term, p_query) AS relevance
             FROM public.keywords AS k
            WHERE k.course_id = c.id
              AND k.term % p_query
           OFFSET 0) AS m
     WHERE (p_course_id IS NULL OR c.id = p_course_id)
     ORDER BY m.relevance DESC, m.term, m.id
     LIMIT greatest(least(p_limit, 100), 1);
END
$$;
COMMENT ON FUNCTION public.search_keywords(text, uuid, integer) IS
    'Keywords whose term is trigram-similar to p_query (pg_trgm.similarity_threshold), best first, optionally in one '
    'course, from courses the caller can read; at most p_limit (1..100).';

CREATE OR REPLACE FUNCTION public.get_user_progress_summary(p_user_id uuid)
RETURNS TABLE (
    user_id uuid,
    courses_total bigint,
    courses_in_progress bigint,
    courses_completed bigint,
    avg_completion_percent numeric,
    chapters_completed bigint,
    current_streak integer,
    longest_streak integer,
    total_time_seconds bigint,
    badge_count bigint,
    last_activity_at timestamptz)
LANGUAGE sql
STABLE
AS $$
    -- The streak is the user's over every course (user_streaks, 0006); one whose
    -- last active day is before yesterday (user time zone) is broken.
    WITH today AS (
        SELECT (now() AT TIME ZONE coalesce(
                    (SELECT u.time_zone FROM public.users AS u WHERE u.id = p_user_id), 'UTC'))::date AS d)
    SELECT p_user_id,
           count(up.id),
           count(up.id) FILTER (WHERE up.status = 'in_progress'),
           count(up.id) FILTER (WHERE up.status = 'completed'),
           round(avg(up.completion_percent), 2),
           coalesce(sum(cardinality(up.completed_chapter_ids)), 0)::bigint,
           coalesce((SELECT CASE WHEN s.last_activity_date >= t.d - 1 THEN s.current_streak ELSE 0 END
                       FROM public.user_streaks AS s WHERE s.user_id = p_user_id), 0)::integer,
           coalesce((SELECT s.longest_streak FROM public.user_streaks AS s WHERE s.user_id = p_user_id), 0)::integer,
           coalesce(sum(up.total_time_seconds), 0)::bigint,
           coalesce(sum(jsonb_array_length(up.badges)), 0)::bigint,
           max(up.last_activity_at)
      FROM today AS t
      LEFT JOIN public.user_progress AS up ON up.user_id = p_user_id
     GROUP BY t.d
$$;
COMMENT ON FUNCTION public.get_user_progress_summary(uuid) IS
    'Progress of one user over all their courses, with the streak over all courses (one row; zeros when the caller '
    'may not see that user''s progress).';

-- -----------------------------------------------------------------------------
-- Volatility and parallel safety true to what the functions do.
-- -----------------------------------------------------------------------------
ALTER FUNCTION public.generate_cache_key(text, text[]) STABLE;
COMMENT ON FUNCTION public.generate_cache_key(text, text[]) IS
    'Deterministic cache key <namespace>:v1:<sha256 hex> over the ordered parts, e.g. '
    'generate_cache_key(''analogy'', user_id::text, keyword_id::text, model). STABLE: convert_to() depends on the '
    'server encoding.';
ALTER FUNCTION public.get_course_stats(uuid) PARALLEL SAFE;
ALTER FUNCTION public.course_learner_figures(uuid) PARALLEL SAFE;
ALTER FUNCTION public.get_user_progress_summary(uuid) PARALLEL SAFE;
ALTER FUNCTION public.get_learning_statistics(uuid, timestamptz) PARALLEL SAFE;
ALTER FUNCTION public.get_feedback_analysis(uuid, integer) PARALLEL SAFE;

-- -----------------------------------------------------------------------------
-- search_path: every SECURITY INVOKER function of ours that is not a trigger and
-- has no search_path of its own gets pg_catalog, public, so unqualified calls in
-- its body (pgvector's <=>, pg_trgm's similarity and %, our own helpers) resolve
-- whatever search_path the caller has. Left alone: functions whose bodies call
-- only pg_catalog or schema-qualify every name, because a SET clause stops the
-- planner from inlining a SQL function (they sit in every policy and per-row
-- expression).
-- -----------------------------------------------------------------------------
DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN
        SELECT p.oid::regprocedure
          FROM pg_catalog.pg_proc AS p
         WHERE p.pronamespace = 'public'::regnamespace
           AND p.prokind = 'f'
           AND NOT p.prosecdef
           AND p.prorettype <> 'pg_catalog.trigger'::pg_catalog.regtype
           AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) AS cfg WHERE cfg LIKE 'search\_path=%')
           AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend AS e
                            WHERE e.classid = 'pg_catalog.pg_proc'::regclass AND e.objid = p.oid AND e.deptype = 'e')
           AND p.proname NOT IN ('current_user_id', 'normalize_text', 'sensa_is_admin', 'sensa_is_readonly',
                                 'sensa_is_table_owner', 'sensa_is_system', 'sensa_user_data_tables')
         ORDER BY 1
    LOOP
        EXECUTE format('ALTER FUNCTION %s SET search_path = pg_catalog, public', f);
    END LOOP;
END
$$;
