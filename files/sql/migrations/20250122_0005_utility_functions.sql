-- =============================================================================
-- 20250122_0005_utility_functions.sql
--
-- What: the functions the application calls on the schema: vector similarity
--       (cosine_similarity, find_similar_documents, find_similar_keywords),
--       statistics (get_course_stats, get_user_progress_summary,
--       get_learning_statistics, get_feedback_analysis), text search with
--       relevance ranking (search_courses, search_keywords), de-duplication
--       helpers (normalize_text, find_duplicate_keywords, find_duplicate_chunks),
--       cache key generation (generate_cache_key), and the security_invoker view
--       user_course_progress.
-- Why:  one tested implementation of the queries every client needs, written so
--       the planner uses the indexes of 0002.
--
-- Security: every function is SECURITY INVOKER: it sees exactly what the caller
-- may see under the row-level security of 0004, so nothing leaks across users.
-- Content tables that are not themselves protected (documents, chunks,
-- keywords) are reached only through a course the caller can see.
--
-- Planner notes:
--   * similarity search orders by the distance operator itself
--     (ORDER BY embedding <=> $1 LIMIT k) so the HNSW index returns rows in
--     order; the similarity threshold is applied to those k rows afterwards (the
--     rows within a distance are a prefix of that order, so the result is the
--     same and the index scan is not asked to filter);
--   * the visibility filter (course the caller can see) could starve an HNSW scan
--     that stops after hnsw.ef_search candidates; with pgvector >= 0.8.0 the two
--     similarity functions run with hnsw.iterative_scan = relaxed_order (set on
--     the function, so it never leaks into the caller's session) and re-sort the
--     candidates, as pgvector recommends;
--   * pg_trgm operators are not LEAKPROOF, so on an RLS table (courses) the
--     planner applies them after the policy and cannot use the trigram index for
--     the application role. search_courses therefore takes the owner and filters
--     with owner_id = $1 (uuid equality is leakproof), which the planner serves
--     with the courses (owner_id, ...) B-tree; keywords is not RLS-protected, so
--     search_keywords can use the GIN trigram index (for callers who see every
--     course; an ordinary user's search is driven from their own courses);
--   * the courses policy is "owner OR admin OR analytics" (0004): an OR of
--     InitPlans is never an index condition, so "a course the caller can see"
--     left to RLS alone makes the planner walk every user's chunks/keywords and
--     drop ~99% of them in the policy filter (s=1 benchmark before this was
--     changed: document similarity p95 12.9 ms, keyword search p95 18.7 ms).
--     find_similar_documents, find_similar_keywords and search_keywords
--     therefore branch: a caller for
--     whom the courses policy reduces to the owner test (RLS active, not admin,
--     not analytics) gets the owner condition written out,
--     c.owner_id = current_user_id(), which the planner serves with the
--     courses (owner_id, ...) B-tree and starts from the caller's own courses
--     (search_keywords fixes that order, see there);
--     every other caller (admin, analytics, a role RLS does not apply to) sees
--     every course and gets the unrestricted query (HNSW / trigram over all
--     rows). RLS still applies in both branches: the rows come from the same
--     visible set as before; the branch only tells the planner what RLS will
--     allow (an ordinary user's chunks are usually ranked exactly now, where
--     the HNSW scan over everyone's gave an approximation).
--
-- Idempotent: CREATE OR REPLACE FUNCTION / VIEW, guarded DO block. Runs inside
-- pg_migrate's transaction. Rollback: 20250122_0005_rollback.sql.
-- -----------------------------------------------------------------------------
-- squawk: require-lock-timeout and require-statement-timeout are waived: pg_migrate
-- sets lock_timeout and statement_timeout (SET LOCAL) before every file it runs.
-- squawk-ignore-file require-lock-timeout, require-statement-timeout
-- =============================================================================

-- -----------------------------------------------------------------------------
-- Similarity
-- -----------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION public.cosine_similarity(a vector, b vector)
RETURNS double precision
LANGUAGE sql
IMMUTABLE
STRICT
PARALLEL SAFE
AS $$
    SELECT 1 - (a <=> b)
$$;
COMMENT ON FUNCTION public.cosine_similarity(vector, vector) IS
    'Cosine similarity in [-1, 1] (1 - cosine distance). For ranking, ORDER BY embedding <=> q instead so HNSW is used.';

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

-- -----------------------------------------------------------------------------
-- Statistics (each sees only what the caller's row-level security allows)
-- -----------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION public.get_course_stats(p_course_id uuid)
RETURNS TABLE (
    course_id uuid,
    document_count bigint,
    documents_processed bigint,
    documents_in_flight bigint,
    documents_failed bigint,
    total_size_bytes bigint,
    chapter_count bigint,
    chunk_count bigint,
    embedded_chunk_count bigint,
    total_tokens bigint,
    keyword_count bigint,
    relationship_count bigint,
    learner_count bigint,
    completed_learner_count bigint,
    avg_completion_percent numeric)
LANGUAGE sql
STABLE
AS $$
    SELECT c.id,
           d.document_count, d.documents_processed, d.documents_in_flight, d.documents_failed, d.total_size_bytes,
           ch.chapter_count,
           pd.chunk_count, pd.embedded_chunk_count, pd.total_tokens,
           k.keyword_count,
           r.relationship_count,
           p.learner_count, p.completed_learner_count, p.avg_completion_percent
      FROM public.courses AS c
      CROSS JOIN LATERAL (
            SELECT count(*) AS document_count,
                   count(*) FILTER (WHERE cd.status = 'processed') AS documents_processed,
                   count(*) FILTER (WHERE cd.status IN ('uploaded', 'queued', 'processing')) AS documents_in_flight,
                   count(*) FILTER (WHERE cd.status = 'failed') AS documents_failed,
                   coalesce(sum(cd.size_bytes), 0)::bigint AS total_size_bytes
              FROM public.course_documents AS cd
             WHERE cd.course_id = c.id) AS d
      CROSS JOIN LATERAL (
            SELECT count(*) AS chapter_count FROM public.chapters AS chp WHERE chp.course_id = c.id) AS ch
      CROSS JOIN LATERAL (
            SELECT count(*) AS chunk_count,
                   count(x.embedding) AS embedded_chunk_count,
                   coalesce(sum(x.token_count), 0)::bigint AS total_tokens
              FROM public.course_documents AS cd
              JOIN public.processed_documents AS x ON x.course_document_id = cd.id
             WHERE cd.course_id = c.id) AS pd
      CROSS JOIN LATERAL (
            SELECT count(*) AS keyword_count FROM public.keywords AS kw WHERE kw.course_id = c.id) AS k
      CROSS JOIN LATERAL (
            SELECT count(*) AS relationship_count
              FROM public.keywords AS kw
              JOIN public.relationships AS rel ON rel.source_keyword_id = kw.id
             WHERE kw.course_id = c.id) AS r
      CROSS JOIN LATERAL (
            SELECT count(*) AS learner_count,
                   count(*) FILTER (WHERE up.status = 'completed') AS completed_learner_count,
                   round(avg(up.completion_percent), 2) AS avg_completion_percent
              FROM public.user_progress AS up
             WHERE up.course_id = c.id) AS p
     WHERE c.id = p_course_id
$$;
COMMENT ON FUNCTION public.get_course_stats(uuid) IS
    'Content and learner figures of one course; no row when the caller cannot see the course. Learner figures count '
    'only progress rows the caller may see (their own; every row for admin and analytics roles).';

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

CREATE OR REPLACE FUNCTION public.get_learning_statistics(p_user_id uuid, p_since timestamptz DEFAULT NULL)
RETURNS TABLE (
    user_id uuid,
    annotations_total bigint,
    annotations_by_type jsonb,
    open_questions bigint,
    feedback_total bigint,
    avg_feedback_rating numeric,
    helpful_ratio numeric,
    active_courses bigint,
    chapters_completed bigint,
    total_time_seconds bigint)
LANGUAGE sql
STABLE
AS $$
    SELECT p_user_id,
           a.total, a.by_type, a.open_questions,
           f.total, f.avg_rating, f.helpful_ratio,
           p.active_courses, p.chapters_completed, p.total_time_seconds
      FROM (SELECT count(*) AS total,
                   coalesce((SELECT jsonb_object_agg(t.annotation_type, t.n)
                               FROM (SELECT ua.annotation_type::text AS annotation_type, count(*) AS n
                                       FROM public.user_annotations AS ua
                                      WHERE ua.user_id = p_user_id
                                        AND (p_since IS NULL OR ua.created_at >= p_since)
                                      GROUP BY 1) AS t), '{}'::jsonb) AS by_type,
                   count(*) FILTER (WHERE ann.annotation_type = 'question' AND NOT ann.is_resolved) AS open_questions
              FROM public.user_annotations AS ann
             WHERE ann.user_id = p_user_id
               AND (p_since IS NULL OR ann.created_at >= p_since)) AS a,
           (SELECT count(*) AS total,
                   round(avg(af.rating), 2) AS avg_rating,
                   round(avg(CASE WHEN af.helpful THEN 1 ELSE 0 END), 4) AS helpful_ratio
              FROM public.analogy_feedback AS af
             WHERE af.user_id = p_user_id
               AND (p_since IS NULL OR af.created_at >= p_since)) AS f,
           (SELECT count(*) FILTER (WHERE up.status = 'in_progress') AS active_courses,
                   coalesce(sum(cardinality(up.completed_chapter_ids)), 0)::bigint AS chapters_completed,
                   coalesce(sum(up.total_time_seconds), 0)::bigint AS total_time_seconds
              FROM public.user_progress AS up
             WHERE up.user_id = p_user_id
               AND (p_since IS NULL OR up.last_activity_at >= p_since)) AS p
$$;
COMMENT ON FUNCTION public.get_learning_statistics(uuid, timestamptz) IS
    'Annotation, feedback and progress figures of one user, optionally since a time (one row; zeros when not visible).';

CREATE OR REPLACE FUNCTION public.get_feedback_analysis(p_course_id uuid DEFAULT NULL, p_min_feedback integer DEFAULT 1)
RETURNS TABLE (
    analogy_hash text,
    course_id uuid,
    feedback_count bigint,
    distinct_users bigint,
    avg_rating numeric,
    helpful_count bigint,
    not_helpful_count bigint,
    helpful_ratio numeric,
    consensus_reached boolean,
    consensus_helpful boolean)
LANGUAGE sql
STABLE
AS $$
    SELECT af.analogy_hash,
           af.course_id,
           count(*),
           count(DISTINCT af.user_id),
           round(avg(af.rating), 2),
           count(*) FILTER (WHERE af.helpful),
           count(*) FILTER (WHERE NOT af.helpful),
           round(avg(CASE WHEN af.helpful THEN 1 ELSE 0 END), 4),
           bool_or(af.consensus_reached),
           bool_or(af.consensus_helpful)
      FROM public.analogy_feedback AS af
     WHERE p_course_id IS NULL OR af.course_id = p_course_id
     GROUP BY af.analogy_hash, af.course_id
    HAVING count(*) >= greatest(p_min_feedback, 1)
     ORDER BY count(*) DESC, af.analogy_hash
$$;
COMMENT ON FUNCTION public.get_feedback_analysis(uuid, integer) IS
    'Per analogy: feedback count, ratings, helpful ratio and consensus, over the feedback rows the caller may see.';

-- -----------------------------------------------------------------------------
-- Search with relevance ranking
-- -----------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION public.search_courses(p_user_id uuid, p_query text, p_limit integer DEFAULT 20)
RETURNS TABLE (
    course_id uuid,
    title text,
    description text,
    relevance real)
LANGUAGE sql
STABLE
AS $$
    -- owner_id = p_user_id is a leakproof condition the planner pushes into the
    -- owner B-tree index even under RLS; the trigram match then runs on that
    -- owner's courses only. The policy still applies: another user's id yields
    -- nothing unless the caller is admin or analytics.
    SELECT c.id,
           c.title,
           c.description,
           greatest(word_similarity(p_query, c.title),
                    0.8 * word_similarity(p_query, coalesce(c.description, '')))::real AS relevance
      FROM public.courses AS c
     WHERE c.owner_id = p_user_id
       AND btrim(p_query) <> ''
       AND (p_query <% c.title OR p_query <% c.description)
     ORDER BY relevance DESC, c.title, c.id
     LIMIT greatest(least(p_limit, 100), 1)
$$;
COMMENT ON FUNCTION public.search_courses(uuid, text, integer) IS
    'Courses of p_user_id whose title or description contains a word similar to p_query (pg_trgm word similarity), '
    'best first (title counts more than description); at most p_limit (1..100).';

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

-- -----------------------------------------------------------------------------
-- De-duplication helpers
-- -----------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION public.normalize_text(p_text text)
RETURNS text
LANGUAGE sql
IMMUTABLE
STRICT
PARALLEL SAFE
AS $$
    SELECT lower(btrim(regexp_replace(p_text, '\s+', ' ', 'g')))
$$;
COMMENT ON FUNCTION public.normalize_text(text) IS
    'Lower-cases, trims and collapses white space: the comparison form used for de-duplication.';

CREATE OR REPLACE FUNCTION public.find_duplicate_keywords(p_course_id uuid, p_min_similarity real DEFAULT 0.6)
RETURNS TABLE (
    keyword_id uuid,
    duplicate_keyword_id uuid,
    term text,
    duplicate_term text,
    similarity real)
LANGUAGE sql
STABLE
AS $$
    SELECT a.id, b.id, a.term, b.term,
           CASE WHEN public.normalize_text(a.term) = public.normalize_text(b.term) THEN 1::real
                ELSE similarity(a.term, b.term) END AS sim
      FROM public.keywords AS a
      JOIN public.keywords AS b ON b.course_id = a.course_id AND a.id < b.id
     WHERE a.course_id = p_course_id
       AND EXISTS (SELECT 1 FROM public.courses AS c WHERE c.id = p_course_id)
       AND (public.normalize_text(a.term) = public.normalize_text(b.term)
            OR similarity(a.term, b.term) >= p_min_similarity)
     ORDER BY sim DESC, a.term, b.term
$$;
COMMENT ON FUNCTION public.find_duplicate_keywords(uuid, real) IS
    'Pairs of keywords of one course that are probably the same term (same normalized text, or trigram similarity '
    '>= p_min_similarity), most similar first; each pair once.';

CREATE OR REPLACE FUNCTION public.find_duplicate_chunks(p_course_id uuid)
RETURNS TABLE (
    content_sha256 text,
    occurrences bigint,
    chunk_ids uuid[])
LANGUAGE sql
STABLE
AS $$
    SELECT pd.content_sha256, count(*), array_agg(pd.id ORDER BY pd.created_at, pd.id)
      FROM public.course_documents AS d
      JOIN public.processed_documents AS pd ON pd.course_document_id = d.id
     WHERE d.course_id = p_course_id
       AND EXISTS (SELECT 1 FROM public.courses AS c WHERE c.id = p_course_id)
     GROUP BY pd.content_sha256
    HAVING count(*) > 1
     ORDER BY count(*) DESC, pd.content_sha256
$$;
COMMENT ON FUNCTION public.find_duplicate_chunks(uuid) IS
    'Chunks with identical content (content_sha256) within one course, oldest chunk first in chunk_ids.';

-- -----------------------------------------------------------------------------
-- Cache keys
-- -----------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION public.generate_cache_key(p_namespace text, VARIADIC p_parts text[])
RETURNS text
LANGUAGE plpgsql
IMMUTABLE
PARALLEL SAFE
AS $$
BEGIN
    IF p_namespace IS NULL OR p_namespace !~ '^[a-z][a-z0-9_.-]{0,63}$' THEN
        RAISE EXCEPTION 'cache key namespace must match ^[a-z][a-z0-9_.-]{0,63}$, got %', p_namespace
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- Each part is quoted (NULL as the bare word NULL) before joining, so
    -- ('a,b') and ('a', 'b') or (NULL) and ('NULL') never share a key.
    RETURN p_namespace || ':v1:' || encode(sha256(convert_to(
        coalesce((SELECT string_agg(quote_nullable(part), ',' ORDER BY pos)
                    FROM unnest(p_parts) WITH ORDINALITY AS u(part, pos)), ''), 'UTF8')), 'hex');
END
$$;
COMMENT ON FUNCTION public.generate_cache_key(text, text[]) IS
    'Deterministic cache key <namespace>:v1:<sha256 hex> over the ordered parts, e.g. '
    'generate_cache_key(''analogy'', user_id::text, keyword_id::text, model).';

-- -----------------------------------------------------------------------------
-- View over protected tables: security_invoker, so the caller's RLS applies
-- (a plain view would run with its owner's rights).
-- -----------------------------------------------------------------------------
CREATE OR REPLACE VIEW public.user_course_progress
WITH (security_invoker = true, security_barrier = true) AS
SELECT up.user_id,
       up.course_id,
       c.title AS course_title,
       up.status,
       up.completion_percent,
       cardinality(up.completed_chapter_ids) AS chapters_completed,
       up.current_streak,
       up.longest_streak,
       up.last_activity_at,
       up.started_at,
       up.completed_at
  FROM public.user_progress AS up
  LEFT JOIN public.courses AS c ON c.id = up.course_id;
COMMENT ON VIEW public.user_course_progress IS
    'Progress rows with their course title, under the caller''s row-level security (security_invoker); '
    'course_title is NULL when the caller cannot see the course.';
