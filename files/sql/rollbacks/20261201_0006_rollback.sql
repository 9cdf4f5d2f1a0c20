-- =============================================================================
-- 20261201_0006_rollback.sql
--
-- What: returns the schema to its 1.0.0 (0005) state: drops every policy 0006
--       created and re-creates the 0004 policies (copied verbatim from
--       20250122_0004_row_level_security.sql), switches row-level security off
--       on the tables 0004 did not cover, drops course_enrolments,
--       analogy_consensus, user_streaks, the guard and streak triggers and the
--       new functions, puts back the 0003/0004/0005 definitions of
--       analogy_feedback_consensus, current_user_id, set_current_user_id and
--       get_course_stats (verbatim), the ON DELETE CASCADE chapter keys, and the
--       1.0.0 table privileges (sensa_app DML on every data table).
-- Why:  roll back 0007 first (it depends on user_streaks and course_learner_figures).
--       Enrolments and the cross-course streaks are lost; learners' rows stay.
--
-- Idempotent: DROP ... IF EXISTS, CREATE OR REPLACE, guarded DO blocks.
-- Runs inside pg_migrate's transaction.
-- -----------------------------------------------------------------------------
-- squawk: require-lock-timeout and require-statement-timeout are waived: pg_migrate
-- sets lock_timeout and statement_timeout (SET LOCAL) before every file it runs.
-- ban-drop-function, ban-drop-table are waived: dropping what the migration created
-- is the purpose of a rollback. prefer-robust-stmts is waived: every statement is
-- guarded or idempotent, and pg_migrate runs the whole file in one transaction.
-- squawk-ignore-file require-lock-timeout, require-statement-timeout, ban-drop-function, ban-drop-table, prefer-robust-stmts
-- =============================================================================

DO $$
DECLARE
    t record;
    p record;
BEGIN
    FOR t IN SELECT c.relname FROM pg_catalog.pg_class AS c
              WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'
                AND c.relname IN ('users', 'user_profiles', 'courses', 'course_documents', 'chapters',
                                  'processed_documents', 'keywords', 'relationships', 'chapter_complexity',
                                  'user_annotations', 'analogy_feedback', 'user_progress', 'audit_log') LOOP
        FOR p IN SELECT pol.polname FROM pg_catalog.pg_policy AS pol
                  WHERE pol.polrelid = format('public.%I', t.relname)::regclass LOOP
            EXECUTE format('DROP POLICY %I ON public.%I', p.polname, t.relname);
        END LOOP;
        IF t.relname NOT IN ('user_profiles', 'courses', 'user_annotations', 'user_progress', 'analogy_feedback') THEN
            EXECUTE format('ALTER TABLE public.%I NO FORCE ROW LEVEL SECURITY', t.relname);
            EXECUTE format('ALTER TABLE public.%I DISABLE ROW LEVEL SECURITY', t.relname);
        END IF;
    END LOOP;
END
$$;

DROP TRIGGER IF EXISTS users_a_refuse_system_columns ON public.users;
DROP TRIGGER IF EXISTS analogy_feedback_a_refuse_system_columns ON public.analogy_feedback;
DROP TRIGGER IF EXISTS user_progress_a_refuse_system_columns ON public.user_progress;
DROP TRIGGER IF EXISTS user_progress_b_derive_completion ON public.user_progress;
DROP TRIGGER IF EXISTS user_progress_record_user_streak ON public.user_progress;

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

DROP FUNCTION IF EXISTS public.course_learner_figures(uuid);
DROP FUNCTION IF EXISTS public.delete_user_account(uuid);
DROP FUNCTION IF EXISTS public.register_user(text, text, text, text);
DROP FUNCTION IF EXISTS public.user_streaks_record_activity();
DROP FUNCTION IF EXISTS public.user_progress_derive_completion();
DROP FUNCTION IF EXISTS public.sensa_refuse_system_columns();
DROP TABLE IF EXISTS public.user_streaks;
DROP TABLE IF EXISTS public.analogy_consensus;
DROP TABLE IF EXISTS public.course_enrolments;
DROP FUNCTION IF EXISTS public.sensa_course_is_published(uuid);
DROP FUNCTION IF EXISTS public.sensa_is_system(regclass);
DROP FUNCTION IF EXISTS public.sensa_user_data_tables();

CREATE OR REPLACE FUNCTION public.analogy_feedback_consensus()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    min_users constant integer := 3;
    h         text;
    yes_users bigint;
    no_users  bigint;
    verdict   boolean;
BEGIN
    FOR h IN
        SELECT DISTINCT x FROM (VALUES
            (CASE WHEN TG_OP IN ('UPDATE', 'DELETE') THEN OLD.analogy_hash END),
            (CASE WHEN TG_OP IN ('INSERT', 'UPDATE') THEN NEW.analogy_hash END)) AS v(x)
         WHERE x IS NOT NULL
    LOOP
        PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('analogy_feedback_consensus:' || h));
        SELECT count(DISTINCT f.user_id) FILTER (WHERE f.helpful),
               count(DISTINCT f.user_id) FILTER (WHERE NOT f.helpful)
          INTO yes_users, no_users
          FROM public.analogy_feedback AS f
         WHERE f.analogy_hash = h;
        verdict := CASE
            WHEN yes_users >= min_users AND yes_users > no_users THEN true
            WHEN no_users >= min_users AND no_users > yes_users THEN false
        END;
        UPDATE public.analogy_feedback AS f
           SET consensus_reached = (verdict IS NOT NULL),
               consensus_helpful = verdict
         WHERE f.analogy_hash = h
           AND (f.consensus_reached, f.consensus_helpful) IS DISTINCT FROM (verdict IS NOT NULL, verdict);
    END LOOP;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION public.analogy_feedback_consensus() IS
    'AFTER trigger: flags consensus on an analogy once >= 3 distinct users share the majority helpful verdict.';
REVOKE ALL ON FUNCTION public.analogy_feedback_consensus() FROM PUBLIC;

CREATE OR REPLACE FUNCTION public.current_user_id()
RETURNS uuid
LANGUAGE sql
STABLE
PARALLEL SAFE
AS $$
    SELECT NULLIF(pg_catalog.current_setting('sensa.current_user_id', true), '')::uuid
$$;
COMMENT ON FUNCTION public.current_user_id() IS
    'The application user of this transaction (sensa.current_user_id), or NULL when no context is set.';

-- 0004's set_current_user_id was a SQL function; a function's language can be
-- replaced in place, its body is 0004's.
CREATE OR REPLACE FUNCTION public.set_current_user_id(new_user_id uuid, is_local boolean DEFAULT true)
RETURNS uuid
LANGUAGE sql
VOLATILE
AS $$
    SELECT NULLIF(pg_catalog.set_config('sensa.current_user_id', coalesce(new_user_id::text, ''), is_local), '')::uuid
$$;
COMMENT ON FUNCTION public.set_current_user_id(uuid, boolean) IS
    'Sets the application user for row-level security: for the current transaction by default (pooler-safe), '
    'for the session only when is_local is false. NULL clears it. Returns the value set.';
ALTER FUNCTION public.set_current_user_id(uuid, boolean) RESET search_path;

DO $$
DECLARE
    fk record;
BEGIN
    FOR fk IN
        SELECT c.conrelid::regclass AS tbl, c.conname
          FROM pg_catalog.pg_constraint AS c
         WHERE c.conname IN ('user_annotations_chapter_id_fkey', 'analogy_feedback_chapter_id_fkey')
           AND c.connamespace = 'public'::regnamespace
           AND c.confdeltype <> 'c'
    LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', fk.tbl, fk.conname);
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I FOREIGN KEY (chapter_id) REFERENCES public.chapters (id) '
                       'ON DELETE CASCADE NOT VALID', fk.tbl, fk.conname);
        EXECUTE format('ALTER TABLE %s VALIDATE CONSTRAINT %I', fk.tbl, fk.conname);
    END LOOP;
END
$$;
COMMENT ON COLUMN public.user_annotations.chapter_id IS 'Chapter annotated, if any; annotations go with the chapter.';
COMMENT ON COLUMN public.analogy_feedback.chapter_id IS 'Chapter the analogy explains, if any; feedback goes with the chapter.';

-- The 1.0.0 grants (what pg_access gave then).
GRANT SELECT, INSERT, UPDATE, DELETE ON public.users, public.user_profiles, public.courses, public.course_documents,
    public.chapters, public.processed_documents, public.keywords, public.relationships, public.chapter_complexity,
    public.user_annotations, public.analogy_feedback, public.user_progress TO sensa_app;
GRANT SELECT ON public.users, public.user_profiles, public.courses, public.course_documents,
    public.chapters, public.processed_documents, public.keywords, public.relationships, public.chapter_complexity,
    public.user_annotations, public.analogy_feedback, public.user_progress TO sensa_readonly;

-- The 0004 policies, verbatim.
-- user_profiles ---------------------------------------------------------------------
ALTER TABLE public.user_profiles ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.user_profiles FORCE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS user_profiles_select_own ON public.user_profiles;
CREATE POLICY user_profiles_select_own ON public.user_profiles AS PERMISSIVE FOR SELECT TO PUBLIC
    USING (user_id = (SELECT public.current_user_id()));
DROP POLICY IF EXISTS user_profiles_insert_own ON public.user_profiles;
CREATE POLICY user_profiles_insert_own ON public.user_profiles AS PERMISSIVE FOR INSERT TO PUBLIC
    WITH CHECK (user_id = (SELECT public.current_user_id()));
DROP POLICY IF EXISTS user_profiles_update_own ON public.user_profiles;
CREATE POLICY user_profiles_update_own ON public.user_profiles AS PERMISSIVE FOR UPDATE TO PUBLIC
    USING (user_id = (SELECT public.current_user_id()))
    WITH CHECK (user_id = (SELECT public.current_user_id()));
DROP POLICY IF EXISTS user_profiles_delete_own ON public.user_profiles;
CREATE POLICY user_profiles_delete_own ON public.user_profiles AS PERMISSIVE FOR DELETE TO PUBLIC
    USING (user_id = (SELECT public.current_user_id()));
DROP POLICY IF EXISTS user_profiles_admin_all ON public.user_profiles;
CREATE POLICY user_profiles_admin_all ON public.user_profiles AS PERMISSIVE FOR ALL TO PUBLIC
    USING ((SELECT public.sensa_is_admin()))
    WITH CHECK ((SELECT public.sensa_is_admin()));
DROP POLICY IF EXISTS user_profiles_readonly_select ON public.user_profiles;
CREATE POLICY user_profiles_readonly_select ON public.user_profiles AS PERMISSIVE FOR SELECT TO PUBLIC
    USING ((SELECT public.sensa_is_readonly()));
COMMENT ON POLICY user_profiles_select_own ON public.user_profiles IS 'A user reads only their own rows (user_id).';
COMMENT ON POLICY user_profiles_insert_own ON public.user_profiles IS 'A user inserts rows only as themselves.';
COMMENT ON POLICY user_profiles_update_own ON public.user_profiles IS 'A user updates only their own rows and cannot hand them to someone else.';
COMMENT ON POLICY user_profiles_delete_own ON public.user_profiles IS 'A user deletes only their own rows.';
COMMENT ON POLICY user_profiles_admin_all ON public.user_profiles IS 'Members of sensa_admin have every command on every row.';
COMMENT ON POLICY user_profiles_readonly_select ON public.user_profiles IS 'Members of sensa_readonly (analytics) read every row.';

-- courses ---------------------------------------------------------------------
ALTER TABLE public.courses ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.courses FORCE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS courses_select_own ON public.courses;
CREATE POLICY courses_select_own ON public.courses AS PERMISSIVE FOR SELECT TO PUBLIC
    USING (owner_id = (SELECT public.current_user_id()));
DROP POLICY IF EXISTS courses_insert_own ON public.courses;
CREATE POLICY courses_insert_own ON public.courses AS PERMISSIVE FOR INSERT TO PUBLIC
    WITH CHECK (owner_id = (SELECT public.current_user_id()));
DROP POLICY IF EXISTS courses_update_own ON public.courses;
CREATE POLICY courses_update_own ON public.courses AS PERMISSIVE FOR UPDATE TO PUBLIC
    USING (owner_id = (SELECT public.current_user_id()))
    WITH CHECK (owner_id = (SELECT public.current_user_id()));
DROP POLICY IF EXISTS courses_delete_own ON public.courses;
CREATE POLICY courses_delete_own ON public.courses AS PERMISSIVE FOR DELETE TO PUBLIC
    USING (owner_id = (SELECT public.current_user_id()));
DROP POLICY IF EXISTS courses_admin_all ON public.courses;
CREATE POLICY courses_admin_all ON public.courses AS PERMISSIVE FOR ALL TO PUBLIC
    USING ((SELECT public.sensa_is_admin()))
    WITH CHECK ((SELECT public.sensa_is_admin()));
DROP POLICY IF EXISTS courses_readonly_select ON public.courses;
CREATE POLICY courses_readonly_select ON public.courses AS PERMISSIVE FOR SELECT TO PUBLIC
    USING ((SELECT public.sensa_is_readonly()));
COMMENT ON POLICY courses_select_own ON public.courses IS 'A user reads only their own rows (owner_id).';
COMMENT ON POLICY courses_insert_own ON public.courses IS 'A user inserts rows only as themselves.';
COMMENT ON POLICY courses_update_own ON public.courses IS 'A user updates only their own rows and cannot hand them to someone else.';
COMMENT ON POLICY courses_delete_own ON public.courses IS 'A user deletes only their own rows.';
COMMENT ON POLICY courses_admin_all ON public.courses IS 'Members of sensa_admin have every command on every row.';
COMMENT ON POLICY courses_readonly_select ON public.courses IS 'Members of sensa_readonly (analytics) read every row.';

-- user_annotations ---------------------------------------------------------------------
ALTER TABLE public.user_annotations ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.user_annotations FORCE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS user_annotations_select_own ON public.user_annotations;
CREATE POLICY user_annotations_select_own ON public.user_annotations AS PERMISSIVE FOR SELECT TO PUBLIC
    USING (user_id = (SELECT public.current_user_id()));
DROP POLICY IF EXISTS user_annotations_insert_own ON public.user_annotations;
CREATE POLICY user_annotations_insert_own ON public.user_annotations AS PERMISSIVE FOR INSERT TO PUBLIC
    WITH CHECK (user_id = (SELECT public.current_user_id()));
DROP POLICY IF EXISTS user_annotations_update_own ON public.user_annotations;
CREATE POLICY user_annotations_update_own ON public.user_annotations AS PERMISSIVE FOR UPDATE TO PUBLIC
    USING (user_id = (SELECT public.current_user_id()))
    WITH CHECK (user_id = (SELECT public.current_user_id()));
DROP POLICY IF EXISTS user_annotations_delete_own ON public.user_annotations;
CREATE POLICY user_annotations_delete_own ON public.user_annotations AS PERMISSIVE FOR DELETE TO PUBLIC
    USING (user_id = (SELECT public.current_user_id()));
DROP POLICY IF EXISTS user_annotations_admin_all ON public.user_annotations;
CREATE POLICY user_annotations_admin_all ON public.user_annotations AS PERMISSIVE FOR ALL TO PUBLIC
    USING ((SELECT public.sensa_is_admin()))
    WITH CHECK ((SELECT public.sensa_is_admin()));
DROP POLICY IF EXISTS user_annotations_readonly_select ON public.user_annotations;
CREATE POLICY user_annotations_readonly_select ON public.user_annotations AS PERMISSIVE FOR SELECT TO PUBLIC
    USING ((SELECT public.sensa_is_readonly()));
COMMENT ON POLICY user_annotations_select_own ON public.user_annotations IS 'A user reads only their own rows (user_id).';
COMMENT ON POLICY user_annotations_insert_own ON public.user_annotations IS 'A user inserts rows only as themselves.';
COMMENT ON POLICY user_annotations_update_own ON public.user_annotations IS 'A user updates only their own rows and cannot hand them to someone else.';
COMMENT ON POLICY user_annotations_delete_own ON public.user_annotations IS 'A user deletes only their own rows.';
COMMENT ON POLICY user_annotations_admin_all ON public.user_annotations IS 'Members of sensa_admin have every command on every row.';
COMMENT ON POLICY user_annotations_readonly_select ON public.user_annotations IS 'Members of sensa_readonly (analytics) read every row.';

-- user_progress ---------------------------------------------------------------------
ALTER TABLE public.user_progress ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.user_progress FORCE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS user_progress_select_own ON public.user_progress;
CREATE POLICY user_progress_select_own ON public.user_progress AS PERMISSIVE FOR SELECT TO PUBLIC
    USING (user_id = (SELECT public.current_user_id()));
DROP POLICY IF EXISTS user_progress_insert_own ON public.user_progress;
CREATE POLICY user_progress_insert_own ON public.user_progress AS PERMISSIVE FOR INSERT TO PUBLIC
    WITH CHECK (user_id = (SELECT public.current_user_id()));
DROP POLICY IF EXISTS user_progress_update_own ON public.user_progress;
CREATE POLICY user_progress_update_own ON public.user_progress AS PERMISSIVE FOR UPDATE TO PUBLIC
    USING (user_id = (SELECT public.current_user_id()))
    WITH CHECK (user_id = (SELECT public.current_user_id()));
DROP POLICY IF EXISTS user_progress_delete_own ON public.user_progress;
CREATE POLICY user_progress_delete_own ON public.user_progress AS PERMISSIVE FOR DELETE TO PUBLIC
    USING (user_id = (SELECT public.current_user_id()));
DROP POLICY IF EXISTS user_progress_admin_all ON public.user_progress;
CREATE POLICY user_progress_admin_all ON public.user_progress AS PERMISSIVE FOR ALL TO PUBLIC
    USING ((SELECT public.sensa_is_admin()))
    WITH CHECK ((SELECT public.sensa_is_admin()));
DROP POLICY IF EXISTS user_progress_readonly_select ON public.user_progress;
CREATE POLICY user_progress_readonly_select ON public.user_progress AS PERMISSIVE FOR SELECT TO PUBLIC
    USING ((SELECT public.sensa_is_readonly()));
COMMENT ON POLICY user_progress_select_own ON public.user_progress IS 'A user reads only their own rows (user_id).';
COMMENT ON POLICY user_progress_insert_own ON public.user_progress IS 'A user inserts rows only as themselves.';
COMMENT ON POLICY user_progress_update_own ON public.user_progress IS 'A user updates only their own rows and cannot hand them to someone else.';
COMMENT ON POLICY user_progress_delete_own ON public.user_progress IS 'A user deletes only their own rows.';
COMMENT ON POLICY user_progress_admin_all ON public.user_progress IS 'Members of sensa_admin have every command on every row.';
COMMENT ON POLICY user_progress_readonly_select ON public.user_progress IS 'Members of sensa_readonly (analytics) read every row.';

-- analogy_feedback ---------------------------------------------------------------------
ALTER TABLE public.analogy_feedback ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.analogy_feedback FORCE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS analogy_feedback_select_own ON public.analogy_feedback;
CREATE POLICY analogy_feedback_select_own ON public.analogy_feedback AS PERMISSIVE FOR SELECT TO PUBLIC
    USING (user_id = (SELECT public.current_user_id()));
DROP POLICY IF EXISTS analogy_feedback_insert_own ON public.analogy_feedback;
CREATE POLICY analogy_feedback_insert_own ON public.analogy_feedback AS PERMISSIVE FOR INSERT TO PUBLIC
    WITH CHECK (user_id = (SELECT public.current_user_id()));
DROP POLICY IF EXISTS analogy_feedback_update_own ON public.analogy_feedback;
CREATE POLICY analogy_feedback_update_own ON public.analogy_feedback AS PERMISSIVE FOR UPDATE TO PUBLIC
    USING (user_id = (SELECT public.current_user_id()))
    WITH CHECK (user_id = (SELECT public.current_user_id()));
DROP POLICY IF EXISTS analogy_feedback_delete_own ON public.analogy_feedback;
CREATE POLICY analogy_feedback_delete_own ON public.analogy_feedback AS PERMISSIVE FOR DELETE TO PUBLIC
    USING (user_id = (SELECT public.current_user_id()));
DROP POLICY IF EXISTS analogy_feedback_admin_all ON public.analogy_feedback;
CREATE POLICY analogy_feedback_admin_all ON public.analogy_feedback AS PERMISSIVE FOR ALL TO PUBLIC
    USING ((SELECT public.sensa_is_admin()))
    WITH CHECK ((SELECT public.sensa_is_admin()));
DROP POLICY IF EXISTS analogy_feedback_readonly_select ON public.analogy_feedback;
CREATE POLICY analogy_feedback_readonly_select ON public.analogy_feedback AS PERMISSIVE FOR SELECT TO PUBLIC
    USING ((SELECT public.sensa_is_readonly()));
COMMENT ON POLICY analogy_feedback_select_own ON public.analogy_feedback IS 'A user reads only their own rows (user_id).';
COMMENT ON POLICY analogy_feedback_insert_own ON public.analogy_feedback IS 'A user inserts rows only as themselves.';
COMMENT ON POLICY analogy_feedback_update_own ON public.analogy_feedback IS 'A user updates only their own rows and cannot hand them to someone else.';
COMMENT ON POLICY analogy_feedback_delete_own ON public.analogy_feedback IS 'A user deletes only their own rows.';
COMMENT ON POLICY analogy_feedback_admin_all ON public.analogy_feedback IS 'Members of sensa_admin have every command on every row.';
COMMENT ON POLICY analogy_feedback_readonly_select ON public.analogy_feedback IS 'Members of sensa_readonly (analytics) read every row.';

-- The consensus trigger (0003) is SECURITY DEFINER and runs as the owner, which
-- FORCE makes subject to RLS: it must read and flag every user's verdict.
DROP POLICY IF EXISTS analogy_feedback_owner_maintenance ON public.analogy_feedback;
CREATE POLICY analogy_feedback_owner_maintenance ON public.analogy_feedback AS PERMISSIVE FOR ALL TO PUBLIC
    USING ((SELECT public.sensa_is_table_owner('public.analogy_feedback'::regclass)))
    WITH CHECK ((SELECT public.sensa_is_table_owner('public.analogy_feedback'::regclass)));
COMMENT ON POLICY analogy_feedback_owner_maintenance ON public.analogy_feedback IS
    'The table owner (the consensus trigger runs as it) sees every row; the application role is never the owner.';
