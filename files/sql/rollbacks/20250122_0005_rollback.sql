-- =============================================================================
-- 20250122_0005_rollback.sql
--
-- What: removes what 20250122_0005_utility_functions.sql added, in reverse order.
-- Why:  returns the schema to its 0004 state.
--
-- Idempotent: DROP ... IF EXISTS. Runs inside pg_migrate's transaction.
-- -----------------------------------------------------------------------------
-- squawk: require-lock-timeout and require-statement-timeout are waived: pg_migrate
-- sets lock_timeout and statement_timeout (SET LOCAL) before every file it runs.
-- ban-drop-function / ban-drop-view are waived: dropping the functions and the view
-- 0005 created is the purpose of this rollback.
-- squawk-ignore-file require-lock-timeout, require-statement-timeout, ban-drop-function, ban-drop-view
-- =============================================================================

DROP VIEW IF EXISTS public.user_course_progress;
DROP FUNCTION IF EXISTS public.generate_cache_key(text, text[]);
DROP FUNCTION IF EXISTS public.find_duplicate_chunks(uuid);
DROP FUNCTION IF EXISTS public.find_duplicate_keywords(uuid, real);
DROP FUNCTION IF EXISTS public.normalize_text(text);
DROP FUNCTION IF EXISTS public.search_keywords(text, uuid, integer);
DROP FUNCTION IF EXISTS public.search_courses(uuid, text, integer);
DROP FUNCTION IF EXISTS public.get_feedback_analysis(uuid, integer);
DROP FUNCTION IF EXISTS public.get_learning_statistics(uuid, timestamptz);
DROP FUNCTION IF EXISTS public.get_user_progress_summary(uuid);
DROP FUNCTION IF EXISTS public.get_course_stats(uuid);
DROP FUNCTION IF EXISTS public.find_similar_keywords(vector, integer, double precision, uuid);
DROP FUNCTION IF EXISTS public.find_similar_documents(vector, integer, double precision);
DROP FUNCTION IF EXISTS public.cosine_similarity(vector, vector);
