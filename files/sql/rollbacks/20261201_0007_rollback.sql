-- =============================================================================
-- 20261201_0007_rollback.sql
--
-- What: returns the schema to its 0006 state: drops find_similar_documents_in_course,
--       puts back the 0005 definitions of find_similar_documents,
--       find_similar_keywords, search_keywords and get_user_progress_summary
--       (copied verbatim from 20250122_0005_utility_functions.sql), removes the
--       search_path settings 0007 added, makes generate_cache_key IMMUTABLE and the
--       statistics functions PARALLEL UNSAFE again (get_course_stats keeps the
--       PARALLEL SAFE that 0006 gave it), and the chapter position constraint
--       NOT DEFERRABLE again.
-- Why:  a rollback of 0007 alone must leave exactly what 0006 left
--       (tests/integration/schema/test_privacy_migrations.py compares pg_dump output).
--
-- Idempotent: CREATE OR REPLACE, DROP ... IF EXISTS, guarded DO blocks.
-- Runs inside pg_migrate's transaction.
-- -----------------------------------------------------------------------------
-- squawk: require-lock-timeout and require-statement-timeout are waived: pg_migrate
-- sets lock_timeout and statement_timeout (SET LOCAL) before every file it runs.
-- ban-drop-function, ban-drop-table are waived: dropping what the migration created
-- is the purpose of a rollback. prefer-robust-stmts is waived: every statement is
-- guarded or idempotent, and pg_migrate runs the whole file in one transaction.
-- squawk-ignore-file require-lock-timeout, require-statement-timeout, ban-drop-function, ban-drop-table, prefer-robust-stmts
-- =============================================================================

DROP FUNCTION IF EXISTS public.find_similar_documents_in_course(uuid, vector, integer, double precision);

-- The search_path settings 0007 added (0005's functions had none; search_keywords
-- keeps its plan_cache_mode).
DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN
        SELECT p.oid::regprocedure
          FROM pg_catalog.pg_proc AS p
         WHERE p.pronamespace = 'public'::regnamespace
           AND NOT p.prosecdef
           AND EXISTS (SELECT 1 FROM unnest(p.proconfig) AS cfg WHERE cfg = 'search_path=pg_catalog, public')
    LOOP
        EXECUTE format('ALTER FUNCTION %s RESET search_path', f);
    END LOOP;
END
$$;
-- get_course_stats had its search_path from 0006.
ALTER FUNCTION public.get_course_stats(uuid) SET search_path = pg_catalog, public;

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

    -- Callers who see every course (admin, analytics, RLS not applied): HNSW over
    -- every chunk, the iterative scan keeping the result complete.
    IF NOT pg_catalog.row_security_active('public.courses'::regclass)
       OR public.sensa_is_admin() OR public.sensa_is_readonly() THEN
        RETURN QUERY
        WITH candidates AS MATERIALIZED (
            SELECT pd.id, pd.course_document_id, d.course_id, pd.chapter_id, pd.chunk_index, pd.content,
                   pd.embedding <=> query_embedding AS distance
              FROM public.processed_documents AS pd
              JOIN public.course_documents AS d ON d.id = pd.course_document_id
             WHERE pd.embedding IS NOT NULL
               AND EXISTS (SELECT 1 FROM public.courses AS c WHERE c.id = d.course_id)
             ORDER BY pd.embedding <=> query_embedding
             LIMIT match_count)
        SELECT cand.id, cand.course_document_id, cand.course_id, cand.chapter_id, cand.chunk_index, cand.content,
               1 - cand.distance
          FROM candidates AS cand
         WHERE 1 - cand.distance >= similarity_threshold
         ORDER BY cand.distance, cand.id;
        RETURN;
    END IF;

    -- Ordinary users: RLS lets them see their own courses only; saying so makes the
    -- owner B-tree drive the plan. The planner then ranks the caller's chunks
    -- exactly (a few hundred to a few thousand rows: cheaper than an HNSW scan
    -- that would visit and discard everyone else's), or still takes the HNSW index
    -- when the caller owns a large share of the chunks. Same rows as under RLS alone.
    RETURN QUERY
    WITH candidates AS MATERIALIZED (
        SELECT pd.id, pd.course_document_id, d.course_id, pd.chapter_id, pd.chunk_index, pd.content,
               pd.embedding <=> query_embedding AS distance
          FROM public.processed_documents AS pd
          JOIN public.course_documents AS d ON d.id = pd.course_document_id
         WHERE pd.embedding IS NOT NULL
           AND EXISTS (SELECT 1 FROM public.courses AS c
                        WHERE c.id = d.course_id AND c.owner_id = public.current_user_id())
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
    'from courses the caller can see; most similar first. Admin/analytics: processed_documents_embedding_hnsw over every chunk; '
    'ordinary users: their own courses via the courses owner index (exact ranking of their chunks, or HNSW when cheaper).';

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

    -- Callers who see every course (admin, analytics, RLS not applied).
    IF NOT pg_catalog.row_security_active('public.courses'::regclass)
       OR public.sensa_is_admin() OR public.sensa_is_readonly() THEN
        RETURN QUERY
        WITH candidates AS MATERIALIZED (
            SELECT k.id, k.course_id, k.term, k.definition, k.embedding <=> query_embedding AS distance
              FROM public.keywords AS k
             WHERE k.embedding IS NOT NULL
               AND (course_filter IS NULL OR k.course_id = course_filter)
               AND EXISTS (SELECT 1 FROM public.courses AS c WHERE c.id = k.course_id)
             ORDER BY k.embedding <=> query_embedding
             LIMIT match_count)
        SELECT cand.id, cand.course_id, cand.term, cand.definition, 1 - cand.distance
          FROM candidates AS cand
         WHERE 1 - cand.distance >= similarity_threshold
         ORDER BY cand.distance, cand.id;
        RETURN;
    END IF;

    -- Ordinary users: the owner condition written out (see find_similar_documents).
    RETURN QUERY
    WITH candidates AS MATERIALIZED (
        SELECT k.id, k.course_id, k.term, k.definition, k.embedding <=> query_embedding AS distance
          FROM public.keywords AS k
         WHERE k.embedding IS NOT NULL
           AND (course_filter IS NULL OR k.course_id = course_filter)
           AND EXISTS (SELECT 1 FROM public.courses AS c
                        WHERE c.id = k.course_id AND c.owner_id = public.current_user_id())
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
    'the caller can see; most similar first. Served by keywords_embedding_hnsw over every keyword (admin/analytics), '
    'by the course or owner index for a course filter or an ordinary user.';

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
    -- keywords is not RLS-protected, so k.term % p_query can use keywords_term_trgm.
    -- plpgsql (not SQL) so the function can choose between two statements, each
    -- planned on its own: a single SQL statement would carry the admin/owner OR
    -- into the plan and lose the owner index.
    -- force_custom_plan: the statements are planned with the actual search term
    -- (a cached generic plan, made without it, guessed the selectivity of % and
    -- picked the trigram index for every term and every course: 9-170 ms per
    -- call at s=1). Planning each call costs a fraction of a millisecond.
    IF NOT pg_catalog.row_security_active('public.courses'::regclass)
       OR public.sensa_is_admin() OR public.sensa_is_readonly() THEN
        -- Every course visible: the trigram index over all keywords.
        RETURN QUERY
        SELECT k.id, k.course_id, k.term, k.definition, similarity(k.term, p_query) AS relevance
          FROM public.keywords AS k
         WHERE k.term % p_query
           AND (p_course_id IS NULL OR k.course_id = p_course_id)
           AND EXISTS (SELECT 1 FROM public.courses AS c WHERE c.id = k.course_id)
         ORDER BY relevance DESC, k.term, k.id
         LIMIT greatest(least(p_limit, 100), 1);
        RETURN;
    END IF;

    -- Ordinary users: the owner condition written out, and the search driven from
    -- the caller's courses (owner B-tree), then each course's keywords (course
    -- B-tree, ~10 rows), the trigram test applied to those. The work is bounded by
    -- the caller's own keywords. Left to itself the planner misjudges % (s=1:
    -- estimated 108 matches for "migration", 6,682 index hits): it started from the
    -- trigram index and filtered every user's matches (24-43 ms) where the caller's
    -- 600 keywords take ~2 ms. The LATERAL subquery with OFFSET 0 (not pulled up)
    -- fixes that order. RLS still applies: same rows as under RLS alone.
    RETURN QUERY
    SELECT m.id, c.id, m.term, m.definition, m.relevance
      FROM public.courses AS c
     CROSS JOIN LATERAL (
           SELECT k.id, k.term, k.definition, similarity(k.term, p_query) AS relevance
             FROM public.keywords AS k
            WHERE k.course_id = c.id
              AND k.term % p_query
           OFFSET 0) AS m
     WHERE c.owner_id = public.current_user_id()
       AND (p_course_id IS NULL OR c.id = p_course_id)
     ORDER BY m.relevance DESC, m.term, m.id
     LIMIT greatest(least(p_limit, 100), 1);
END
$$;
COMMENT ON FUNCTION public.search_keywords(text, uuid, integer) IS
    'Keywords whose term is trigram-similar to p_query (pg_trgm.similarity_threshold), best first, optionally in one '
    'course, from courses the caller can see; at most p_limit (1..100).';

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
    -- A streak whose last active day is before yesterday (user time zone) is broken.
    WITH today AS (
        SELECT (now() AT TIME ZONE coalesce(
                    (SELECT u.time_zone FROM public.users AS u WHERE u.id = p_user_id), 'UTC'))::date AS d)
    SELECT p_user_id,
           count(up.id),
           count(up.id) FILTER (WHERE up.status = 'in_progress'),
           count(up.id) FILTER (WHERE up.status = 'completed'),
           round(avg(up.completion_percent), 2),
           coalesce(sum(cardinality(up.completed_chapter_ids)), 0)::bigint,
           coalesce(max(CASE WHEN up.last_activity_date >= t.d - 1 THEN up.current_streak ELSE 0 END), 0)::integer,
           coalesce(max(up.longest_streak), 0)::integer,
           coalesce(sum(up.total_time_seconds), 0)::bigint,
           coalesce(sum(jsonb_array_length(up.badges)), 0)::bigint,
           max(up.last_activity_at)
      FROM today AS t
      LEFT JOIN public.user_progress AS up ON up.user_id = p_user_id
$$;
COMMENT ON FUNCTION public.get_user_progress_summary(uuid) IS
    'Progress of one user over all their courses (one row; zeros when the caller may not see that user''s progress).';

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


ALTER FUNCTION public.generate_cache_key(text, text[]) IMMUTABLE;
COMMENT ON FUNCTION public.generate_cache_key(text, text[]) IS
    'Deterministic cache key <namespace>:v1:<sha256 hex> over the ordered parts, e.g. '
    'generate_cache_key(''analogy'', user_id::text, keyword_id::text, model).';
ALTER FUNCTION public.course_learner_figures(uuid) PARALLEL UNSAFE;
ALTER FUNCTION public.get_user_progress_summary(uuid) PARALLEL UNSAFE;
ALTER FUNCTION public.get_learning_statistics(uuid, timestamptz) PARALLEL UNSAFE;
ALTER FUNCTION public.get_feedback_analysis(uuid, integer) PARALLEL UNSAFE;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_constraint AS c
                WHERE c.conrelid = 'public.chapters'::regclass AND c.conname = 'chapters_course_position_key'
                  AND c.condeferrable) THEN
        ALTER TABLE public.chapters DROP CONSTRAINT chapters_course_position_key;
        ALTER TABLE public.chapters ADD CONSTRAINT chapters_course_position_key UNIQUE (course_id, position);
    END IF;
END
$$;
