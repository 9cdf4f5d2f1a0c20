-- =============================================================================
-- 20250122_0003_rollback.sql
--
-- What: removes what 20250122_0003_triggers.sql added, in reverse order: the
--       audit triggers enable_audit() created on any table, the audit functions
--       and audit_log, then every trigger and trigger function of 0003.
-- Why:  returns the schema to its 0002 state.
--
-- Idempotent: DROP ... IF EXISTS; the audit-trigger sweep finds nothing the
-- second time. Runs inside pg_migrate's transaction.
-- -----------------------------------------------------------------------------
-- squawk: require-lock-timeout and require-statement-timeout are waived: pg_migrate
-- sets lock_timeout and statement_timeout (SET LOCAL) before every file it runs.
-- ban-drop-table / ban-drop-function are waived: dropping the audit_log table and
-- the functions 0003 created is the purpose of this rollback.
-- squawk-ignore-file require-lock-timeout, require-statement-timeout, ban-drop-table, ban-drop-function
-- =============================================================================

-- Audit triggers switched on at run time by enable_audit(), wherever they are.
DO $$
DECLARE
    t record;
BEGIN
    FOR t IN
        SELECT tg.tgrelid::regclass AS rel, tg.tgname
          FROM pg_catalog.pg_trigger AS tg
          JOIN pg_catalog.pg_proc AS p ON p.oid = tg.tgfoid
          JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
         WHERE n.nspname = 'public' AND p.proname = 'audit_row_change' AND NOT tg.tgisinternal
    LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', t.tgname, t.rel);
    END LOOP;
END
$$;

DROP FUNCTION IF EXISTS public.disable_audit(regclass);
DROP FUNCTION IF EXISTS public.enable_audit(regclass);
DROP FUNCTION IF EXISTS public.audit_row_change();
DROP TABLE IF EXISTS public.audit_log;

DROP TRIGGER IF EXISTS analogy_feedback_consensus ON public.analogy_feedback;
DROP FUNCTION IF EXISTS public.analogy_feedback_consensus();

DROP TRIGGER IF EXISTS course_documents_check_status ON public.course_documents;
DROP FUNCTION IF EXISTS public.course_documents_check_status();

DROP TRIGGER IF EXISTS user_progress_track_completion ON public.user_progress;
DROP FUNCTION IF EXISTS public.user_progress_track_completion();

DROP TRIGGER IF EXISTS user_progress_maintain_streak ON public.user_progress;
DROP FUNCTION IF EXISTS public.user_progress_maintain_streak();

DROP TRIGGER IF EXISTS user_profiles_normalize_interests ON public.user_profiles;
DROP FUNCTION IF EXISTS public.user_profiles_normalize_interests();

DROP TRIGGER IF EXISTS users_validate_time_zone ON public.users;
DROP FUNCTION IF EXISTS public.users_validate_time_zone();

DROP TRIGGER IF EXISTS chapter_complexity_set_updated_at ON public.chapter_complexity;
DROP TRIGGER IF EXISTS user_progress_set_updated_at ON public.user_progress;
DROP TRIGGER IF EXISTS analogy_feedback_set_updated_at ON public.analogy_feedback;
DROP TRIGGER IF EXISTS user_annotations_set_updated_at ON public.user_annotations;
DROP TRIGGER IF EXISTS relationships_set_updated_at ON public.relationships;
DROP TRIGGER IF EXISTS keywords_set_updated_at ON public.keywords;
DROP TRIGGER IF EXISTS processed_documents_set_updated_at ON public.processed_documents;
DROP TRIGGER IF EXISTS chapters_set_updated_at ON public.chapters;
DROP TRIGGER IF EXISTS course_documents_set_updated_at ON public.course_documents;
DROP TRIGGER IF EXISTS courses_set_updated_at ON public.courses;
DROP TRIGGER IF EXISTS user_profiles_set_updated_at ON public.user_profiles;
DROP TRIGGER IF EXISTS users_set_updated_at ON public.users;
DROP FUNCTION IF EXISTS public.set_updated_at();
