-- =============================================================================
-- 20250122_0004_rollback.sql
--
-- What: removes what 20250122_0004_row_level_security.sql added, in reverse
--       order: the policies, FORCE and ENABLE ROW LEVEL SECURITY on the five
--       tables, then the helper functions.
-- Why:  returns the schema to its 0003 state. Roll back 0005 first: its
--       functions call current_user_id().
--
-- Idempotent: DROP ... IF EXISTS; NO FORCE / DISABLE are no-ops when already off.
-- Runs inside pg_migrate's transaction.
-- -----------------------------------------------------------------------------
-- squawk: require-lock-timeout and require-statement-timeout are waived: pg_migrate
-- sets lock_timeout and statement_timeout (SET LOCAL) before every file it runs.
-- ban-drop-function is waived: dropping the functions 0004 created is the purpose.
-- prefer-robust-stmts is waived: ALTER TABLE ... NO FORCE / DISABLE ROW LEVEL SECURITY is
-- idempotent by nature, and pg_migrate runs the whole file in one transaction.
-- squawk-ignore-file require-lock-timeout, require-statement-timeout, ban-drop-function, prefer-robust-stmts
-- =============================================================================

-- analogy_feedback
DROP POLICY IF EXISTS analogy_feedback_owner_maintenance ON public.analogy_feedback;
DROP POLICY IF EXISTS analogy_feedback_readonly_select ON public.analogy_feedback;
DROP POLICY IF EXISTS analogy_feedback_admin_all ON public.analogy_feedback;
DROP POLICY IF EXISTS analogy_feedback_delete_own ON public.analogy_feedback;
DROP POLICY IF EXISTS analogy_feedback_update_own ON public.analogy_feedback;
DROP POLICY IF EXISTS analogy_feedback_insert_own ON public.analogy_feedback;
DROP POLICY IF EXISTS analogy_feedback_select_own ON public.analogy_feedback;
ALTER TABLE IF EXISTS public.analogy_feedback NO FORCE ROW LEVEL SECURITY;
ALTER TABLE IF EXISTS public.analogy_feedback DISABLE ROW LEVEL SECURITY;

-- user_progress
DROP POLICY IF EXISTS user_progress_readonly_select ON public.user_progress;
DROP POLICY IF EXISTS user_progress_admin_all ON public.user_progress;
DROP POLICY IF EXISTS user_progress_delete_own ON public.user_progress;
DROP POLICY IF EXISTS user_progress_update_own ON public.user_progress;
DROP POLICY IF EXISTS user_progress_insert_own ON public.user_progress;
DROP POLICY IF EXISTS user_progress_select_own ON public.user_progress;
ALTER TABLE IF EXISTS public.user_progress NO FORCE ROW LEVEL SECURITY;
ALTER TABLE IF EXISTS public.user_progress DISABLE ROW LEVEL SECURITY;

-- user_annotations
DROP POLICY IF EXISTS user_annotations_readonly_select ON public.user_annotations;
DROP POLICY IF EXISTS user_annotations_admin_all ON public.user_annotations;
DROP POLICY IF EXISTS user_annotations_delete_own ON public.user_annotations;
DROP POLICY IF EXISTS user_annotations_update_own ON public.user_annotations;
DROP POLICY IF EXISTS user_annotations_insert_own ON public.user_annotations;
DROP POLICY IF EXISTS user_annotations_select_own ON public.user_annotations;
ALTER TABLE IF EXISTS public.user_annotations NO FORCE ROW LEVEL SECURITY;
ALTER TABLE IF EXISTS public.user_annotations DISABLE ROW LEVEL SECURITY;

-- courses
DROP POLICY IF EXISTS courses_readonly_select ON public.courses;
DROP POLICY IF EXISTS courses_admin_all ON public.courses;
DROP POLICY IF EXISTS courses_delete_own ON public.courses;
DROP POLICY IF EXISTS courses_update_own ON public.courses;
DROP POLICY IF EXISTS courses_insert_own ON public.courses;
DROP POLICY IF EXISTS courses_select_own ON public.courses;
ALTER TABLE IF EXISTS public.courses NO FORCE ROW LEVEL SECURITY;
ALTER TABLE IF EXISTS public.courses DISABLE ROW LEVEL SECURITY;

-- user_profiles
DROP POLICY IF EXISTS user_profiles_readonly_select ON public.user_profiles;
DROP POLICY IF EXISTS user_profiles_admin_all ON public.user_profiles;
DROP POLICY IF EXISTS user_profiles_delete_own ON public.user_profiles;
DROP POLICY IF EXISTS user_profiles_update_own ON public.user_profiles;
DROP POLICY IF EXISTS user_profiles_insert_own ON public.user_profiles;
DROP POLICY IF EXISTS user_profiles_select_own ON public.user_profiles;
ALTER TABLE IF EXISTS public.user_profiles NO FORCE ROW LEVEL SECURITY;
ALTER TABLE IF EXISTS public.user_profiles DISABLE ROW LEVEL SECURITY;

DROP FUNCTION IF EXISTS public.sensa_is_table_owner(regclass);
DROP FUNCTION IF EXISTS public.sensa_is_readonly();
DROP FUNCTION IF EXISTS public.sensa_is_admin();
DROP FUNCTION IF EXISTS public.set_current_user_id(uuid, boolean);
DROP FUNCTION IF EXISTS public.current_user_id();
