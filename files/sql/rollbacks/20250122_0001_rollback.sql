-- =============================================================================
-- 20250122_0001_rollback.sql
--
-- What: removes what 20250122_0001_initial_schema.sql added: the 12 application
--       tables (children before parents) and the 5 enum types.
-- Why:  returns a database to its state before the initial schema.
--
-- Deliberately NOT dropped:
--   * public.migrations_log, its index and the public.migrations_state view:
--     pg_migrate created them before this migration ran and records this very
--     rollback in migrations_log (in the same transaction), so the audit trail
--     of every attempt must survive a rollback.
--   * the extensions vector, pg_trgm, uuid-ossp: the pg_extensions stage installs
--     them before any migration and owns them; 0001 only re-asserts them with
--     IF NOT EXISTS, and other databases objects may use them.
--
-- Idempotent: DROP ... IF EXISTS. No CASCADE: a drop that would take an object
-- some other migration created fails loudly instead (roll back 0002..0005 first).
-- Runs inside the single transaction pg_migrate wraps around the file.
-- squawk: require-lock-timeout and require-statement-timeout are waived: pg_migrate
-- sets lock_timeout and statement_timeout (SET LOCAL) before every file it runs.
-- squawk-ignore-file require-lock-timeout, require-statement-timeout
-- squawk: ban-drop-table / ban-drop-type are waived: dropping what 0001 created is
-- the purpose of a rollback; it is only run deliberately (pg_migrate rollback).
-- squawk-ignore-file ban-drop-table, ban-drop-type
-- =============================================================================

DROP TABLE IF EXISTS public.chapter_complexity;
DROP TABLE IF EXISTS public.user_progress;
DROP TABLE IF EXISTS public.analogy_feedback;
DROP TABLE IF EXISTS public.user_annotations;
DROP TABLE IF EXISTS public.relationships;
DROP TABLE IF EXISTS public.keywords;
DROP TABLE IF EXISTS public.processed_documents;
DROP TABLE IF EXISTS public.chapters;
DROP TABLE IF EXISTS public.course_documents;
DROP TABLE IF EXISTS public.courses;
DROP TABLE IF EXISTS public.user_profiles;
DROP TABLE IF EXISTS public.users;

DROP TYPE IF EXISTS public.progress_status;
DROP TYPE IF EXISTS public.annotation_type;
DROP TYPE IF EXISTS public.relationship_type;
DROP TYPE IF EXISTS public.document_status;
DROP TYPE IF EXISTS public.user_role;
