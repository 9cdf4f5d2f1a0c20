-- =============================================================================
-- 20250122_0002_indexes.sql
--
-- What: secondary indexes for the Sensa Learn schema: B-tree indexes for every
--       foreign key column, the row-level security predicates and the queries of
--       the 0005 functions (composites and partial indexes), GIN indexes on JSONB
--       and arrays, GIN trigram indexes on searchable text, and two HNSW indexes
--       for cosine similarity search on the 768-dimension embeddings.
-- Why:  foreign keys without an index make every parent delete scan the child;
--       RLS predicates run on every query; the similarity functions must be
--       served by the vector indexes.
--
-- Rules followed (tests/integration/schema checks the catalog):
--   * no duplicate index and no non-unique B-tree that is a left prefix of
--     another index on the same table with the same predicate; a foreign key is
--     covered when its column leads some index, including a primary key or a
--     unique constraint created in 0001;
--   * primary keys and unique constraints live in 0001 with their tables.
--
-- Idempotent: CREATE INDEX IF NOT EXISTS. Runs inside pg_migrate's transaction.
-- -----------------------------------------------------------------------------
-- squawk: require-concurrent-index-creation is waived for the whole file: the
-- tables are created empty by 0001 in the same release, so a plain CREATE INDEX
-- holds its SHARE lock for milliseconds, and CREATE INDEX CONCURRENTLY cannot
-- run inside the transaction pg_migrate wraps each file in (which we want: the
-- file applies completely or not at all). Later index migrations on populated
-- tables must use a '-- sensa:no-transaction' file with CONCURRENTLY.
-- squawk-ignore-file require-concurrent-index-creation
-- squawk: require-lock-timeout and require-statement-timeout are waived: pg_migrate
-- sets lock_timeout and statement_timeout (SET LOCAL) before every file it runs.
-- squawk-ignore-file require-lock-timeout, require-statement-timeout
-- =============================================================================

-- users ------------------------------------------------------------------------
-- Admin listings by role, newest first.
CREATE INDEX IF NOT EXISTS users_role_created_at_idx ON public.users (role, created_at DESC);
-- Sign-up reports by creation time.
CREATE INDEX IF NOT EXISTS users_created_at_idx ON public.users (created_at);
-- Inactivity reports over active accounts only.
CREATE INDEX IF NOT EXISTS users_active_last_login_at_idx ON public.users (last_login_at) WHERE is_active;
-- Streak jobs that process users per time zone.
CREATE INDEX IF NOT EXISTS users_time_zone_idx ON public.users (time_zone);

-- user_profiles ----------------------------------------------------------------
-- (user_id) is covered by user_profiles_user_id_key (0001).
CREATE INDEX IF NOT EXISTS user_profiles_updated_at_idx ON public.user_profiles (updated_at);
CREATE INDEX IF NOT EXISTS user_profiles_learning_style_idx ON public.user_profiles (learning_style)
    WHERE learning_style IS NOT NULL;

-- courses ----------------------------------------------------------------------
-- FK owner_id and the RLS predicate owner_id = current_user_id(); the owner's
-- course list, newest first; search_courses keeps this index under RLS.
CREATE INDEX IF NOT EXISTS courses_owner_id_created_at_idx ON public.courses (owner_id, created_at DESC);
-- "Recently edited" list per owner.
CREATE INDEX IF NOT EXISTS courses_owner_id_updated_at_idx ON public.courses (owner_id, updated_at DESC);
-- Catalogue of published courses, newest first.
CREATE INDEX IF NOT EXISTS courses_published_at_idx ON public.courses (published_at DESC) WHERE is_published;
CREATE INDEX IF NOT EXISTS courses_language_difficulty_idx ON public.courses (language, difficulty);
CREATE INDEX IF NOT EXISTS courses_created_at_idx ON public.courses (created_at);

-- course_documents -------------------------------------------------------------
-- FK course_id; documents of a course in upload order.
CREATE INDEX IF NOT EXISTS course_documents_course_id_created_at_idx ON public.course_documents (course_id, created_at);
-- Per-course status counts (get_course_stats).
CREATE INDEX IF NOT EXISTS course_documents_course_id_status_idx ON public.course_documents (course_id, status);
-- FK uploaded_by (ON DELETE SET NULL scans it).
CREATE INDEX IF NOT EXISTS course_documents_uploaded_by_idx ON public.course_documents (uploaded_by)
    WHERE uploaded_by IS NOT NULL;
-- The processing worker's queue: documents still being processed, oldest first.
CREATE INDEX IF NOT EXISTS course_documents_in_flight_idx ON public.course_documents (status, created_at)
    WHERE status IN ('uploaded', 'queued', 'processing');
-- Stuck-job detection: processing for too long.
CREATE INDEX IF NOT EXISTS course_documents_processing_started_at_idx ON public.course_documents (processing_started_at)
    WHERE status = 'processing';
-- Failure dashboard.
CREATE INDEX IF NOT EXISTS course_documents_failed_at_idx ON public.course_documents (failed_at DESC)
    WHERE status = 'failed';
-- Duplicate upload detection.
CREATE INDEX IF NOT EXISTS course_documents_checksum_sha256_idx ON public.course_documents (checksum_sha256)
    WHERE checksum_sha256 IS NOT NULL;

-- chapters ---------------------------------------------------------------------
-- (course_id) is covered by chapters_course_position_key (0001).
-- FK course_document_id; chapters of a document in order.
CREATE INDEX IF NOT EXISTS chapters_course_document_id_position_idx ON public.chapters (course_document_id, position);
CREATE INDEX IF NOT EXISTS chapters_updated_at_idx ON public.chapters (updated_at);

-- processed_documents ----------------------------------------------------------
-- (course_document_id) is covered by processed_documents_document_chunk_key (0001).
-- FK chapter_id; chunks of a chapter in order.
CREATE INDEX IF NOT EXISTS processed_documents_chapter_id_chunk_index_idx
    ON public.processed_documents (chapter_id, chunk_index);
-- De-duplication of identical chunks.
CREATE INDEX IF NOT EXISTS processed_documents_content_sha256_idx ON public.processed_documents (content_sha256);
-- The embedding worker's queue: chunks without an embedding yet.
CREATE INDEX IF NOT EXISTS processed_documents_pending_embedding_idx ON public.processed_documents (created_at)
    WHERE embedding IS NULL;
-- Re-embedding after a model change.
CREATE INDEX IF NOT EXISTS processed_documents_embedding_model_idx ON public.processed_documents (embedding_model)
    WHERE embedding_model IS NOT NULL;

-- keywords ---------------------------------------------------------------------
-- (course_id) is covered by keywords_course_term_key (0001).
-- Most important keywords of a course.
CREATE INDEX IF NOT EXISTS keywords_course_id_importance_idx ON public.keywords (course_id, importance DESC);
-- FK chapter_id; keywords of a chapter by importance.
CREATE INDEX IF NOT EXISTS keywords_chapter_id_importance_idx ON public.keywords (chapter_id, importance DESC);
-- Exact look-up of a term across courses.
CREATE INDEX IF NOT EXISTS keywords_normalized_term_idx ON public.keywords (normalized_term);
-- The embedding worker's queue.
CREATE INDEX IF NOT EXISTS keywords_pending_embedding_idx ON public.keywords (created_at) WHERE embedding IS NULL;

-- relationships ----------------------------------------------------------------
-- (source_keyword_id) is covered by relationships_edge_key (0001).
-- FK target_keyword_id; incoming edges by type.
CREATE INDEX IF NOT EXISTS relationships_target_keyword_id_type_idx
    ON public.relationships (target_keyword_id, relationship_type);
-- Strongest edges of a type.
CREATE INDEX IF NOT EXISTS relationships_type_weight_idx ON public.relationships (relationship_type, weight DESC);

-- user_annotations -------------------------------------------------------------
-- FK user_id and the RLS predicate; a user's annotations of a course, newest first.
CREATE INDEX IF NOT EXISTS user_annotations_user_id_course_id_created_at_idx
    ON public.user_annotations (user_id, course_id, created_at DESC);
-- A user's annotations by type (get_learning_statistics).
CREATE INDEX IF NOT EXISTS user_annotations_user_id_type_idx ON public.user_annotations (user_id, annotation_type);
-- FK course_id; course-wide annotation feeds.
CREATE INDEX IF NOT EXISTS user_annotations_course_id_created_at_idx ON public.user_annotations (course_id, created_at);
-- FK chapter_id.
CREATE INDEX IF NOT EXISTS user_annotations_chapter_id_idx ON public.user_annotations (chapter_id)
    WHERE chapter_id IS NOT NULL;
-- FK processed_document_id.
CREATE INDEX IF NOT EXISTS user_annotations_processed_document_id_idx ON public.user_annotations (processed_document_id)
    WHERE processed_document_id IS NOT NULL;
-- Open questions and corrections per course.
CREATE INDEX IF NOT EXISTS user_annotations_unresolved_idx ON public.user_annotations (course_id, annotation_type)
    WHERE NOT is_resolved AND annotation_type IN ('question', 'correction');

-- analogy_feedback -------------------------------------------------------------
-- (analogy_hash) is covered by analogy_feedback_analogy_user_key (0001), which
-- also serves the consensus trigger.
-- FK user_id and the RLS predicate; a user's feedback, newest first.
CREATE INDEX IF NOT EXISTS analogy_feedback_user_id_created_at_idx ON public.analogy_feedback (user_id, created_at DESC);
-- FK course_id; feedback analysis per course.
CREATE INDEX IF NOT EXISTS analogy_feedback_course_id_analogy_hash_idx
    ON public.analogy_feedback (course_id, analogy_hash);
-- FK chapter_id.
CREATE INDEX IF NOT EXISTS analogy_feedback_chapter_id_idx ON public.analogy_feedback (chapter_id)
    WHERE chapter_id IS NOT NULL;
-- FK keyword_id.
CREATE INDEX IF NOT EXISTS analogy_feedback_keyword_id_idx ON public.analogy_feedback (keyword_id)
    WHERE keyword_id IS NOT NULL;
-- Analogies that reached consensus, recently updated first.
CREATE INDEX IF NOT EXISTS analogy_feedback_consensus_idx ON public.analogy_feedback (updated_at DESC)
    WHERE consensus_reached;

-- user_progress ----------------------------------------------------------------
-- (user_id) and the RLS predicate are covered by user_progress_user_course_key (0001).
-- A user's most recent activity.
CREATE INDEX IF NOT EXISTS user_progress_user_id_last_activity_at_idx
    ON public.user_progress (user_id, last_activity_at DESC);
-- FK course_id; learners of a course by status (get_course_stats).
CREATE INDEX IF NOT EXISTS user_progress_course_id_status_idx ON public.user_progress (course_id, status);
-- Completions of a course over time.
CREATE INDEX IF NOT EXISTS user_progress_course_completed_idx ON public.user_progress (course_id, completed_at)
    WHERE status = 'completed';
-- Streak-expiry jobs: rows whose streak is still running.
CREATE INDEX IF NOT EXISTS user_progress_active_streak_idx ON public.user_progress (last_activity_date)
    WHERE current_streak > 0;

-- chapter_complexity -----------------------------------------------------------
-- (chapter_id) is covered by chapter_complexity_chapter_id_key (0001).
CREATE INDEX IF NOT EXISTS chapter_complexity_score_idx ON public.chapter_complexity (complexity_score);
CREATE INDEX IF NOT EXISTS chapter_complexity_computed_at_idx ON public.chapter_complexity (computed_at);

-- GIN on JSONB and arrays ------------------------------------------------------
-- jsonb_path_ops: smaller and faster for the containment (@>) queries the
-- application runs on these documents; key-existence (?) is not needed.
CREATE INDEX IF NOT EXISTS user_profiles_learning_preferences_gin
    ON public.user_profiles USING gin (learning_preferences jsonb_path_ops);
CREATE INDEX IF NOT EXISTS user_profiles_personalisation_gin
    ON public.user_profiles USING gin (personalisation jsonb_path_ops);
CREATE INDEX IF NOT EXISTS user_profiles_interests_gin ON public.user_profiles USING gin (interests);
CREATE INDEX IF NOT EXISTS user_progress_badges_gin ON public.user_progress USING gin (badges jsonb_path_ops);
CREATE INDEX IF NOT EXISTS processed_documents_metadata_gin
    ON public.processed_documents USING gin (metadata jsonb_path_ops);
CREATE INDEX IF NOT EXISTS user_annotations_anchor_gin ON public.user_annotations USING gin (anchor jsonb_path_ops);

-- GIN trigram on searchable text -----------------------------------------------
-- keywords.term is not RLS-protected, so search_keywords uses this index as the
-- application role. courses is RLS-protected and pg_trgm's operators are not
-- LEAKPROOF, so for the application role the planner applies them after the
-- policy filter; search_courses therefore narrows by owner through the B-tree
-- index first. These two serve catalogue search run by roles RLS does not apply
-- to (maintenance, BYPASSRLS reporting) and any future non-protected view.
CREATE INDEX IF NOT EXISTS courses_title_trgm ON public.courses USING gin (title gin_trgm_ops);
CREATE INDEX IF NOT EXISTS courses_description_trgm ON public.courses USING gin (description gin_trgm_ops);
CREATE INDEX IF NOT EXISTS keywords_term_trgm ON public.keywords USING gin (term gin_trgm_ops);

-- HNSW for cosine similarity ---------------------------------------------------
-- vector_cosine_ops matches the <=> operator used by find_similar_documents and
-- find_similar_keywords (embeddings from the text model are compared by angle).
--
-- processed_documents: the big table (millions of chunks). m = 16 keeps the graph
-- at about 2*m links per node at layer 0, a modest memory overhead next to the
-- 3 KB of a 768-dim vector, and gives > 0.95 recall at ef_search 40 on
-- 768-dim text embeddings. ef_construction = 128 (twice the default) buys
-- better graph quality, hence recall at a given ef_search, for a build that is
-- roughly twice as slow: a good trade for data written once and searched often.
CREATE INDEX IF NOT EXISTS processed_documents_embedding_hnsw
    ON public.processed_documents USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 128);
-- keywords: half as many rows as chunks, but searched over every row by admin
-- and analytics callers (ordinary users and course-filtered searches are served
-- by the owner/course B-trees, see 0005). Measured at s=1 (50,000 keywords,
-- 32 tight topic clusters, bench/): with the pgvector default
-- ef_construction = 64, recall@10 over every row was 0.94 at ef_search 40,
-- below the 0.95 target; ef_construction = 128, as for processed_documents,
-- raises it (docs/benchmarks.md has the figure) for a build about twice as
-- slow on a table that is written rarely. m = 16 as above.
CREATE INDEX IF NOT EXISTS keywords_embedding_hnsw
    ON public.keywords USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 128);
