-- =============================================================================
-- 20250122_0004_row_level_security.sql
--
-- What: row-level security on the five tables that hold per-user data:
--       user_profiles, courses, user_annotations, user_progress, analogy_feedback.
--       RLS is ENABLED and FORCED (the table owner is subject to it too); each
--       table gets one policy per command (select, insert, update, delete)
--       isolating rows by the current application user, an admin policy, and a
--       read-only analytics policy; plus the context helpers
--       set_current_user_id(uuid, boolean) / current_user_id() and the membership
--       helpers sensa_is_admin() / sensa_is_readonly() / sensa_is_table_owner().
-- Why:  the application connects with one database role for every end user; the
--       database, not each query, guarantees a user only sees and writes their
--       own rows.
--
-- The model:
--   * Context: the application calls set_current_user_id('<uuid>') at the start of
--     each transaction. The default is transaction-local (set_config(..., true)):
--     safe behind a transaction-pooling pooler, the value vanishes at COMMIT or
--     ROLLBACK. set_current_user_id(id, false) sets it for the session, only for
--     tools that explicitly want that.
--   * current_user_id() reads NULLIF(current_setting('sensa.current_user_id', true),
--     '')::uuid: once set in a session, an unset value reads '' (not NULL).
--   * No context => current_user_id() is NULL => "owner = NULL" is never true =>
--     the application role sees no protected row and can write none.
--   * Policies are written TO PUBLIC with predicates, so the migration needs no
--     role to exist (and no CREATEROLE); who gets more than their own rows is
--     decided by role membership through helpers that return false when the
--     role does not exist:
--       - sensa_is_admin(): member of sensa_admin => every command on every row;
--       - sensa_is_readonly(): member of sensa_readonly => SELECT on every row
--         (decision: analytics needs cross-user aggregates; that role only ever
--         gets SELECT grants, and application logins must never be members);
--       - sensa_is_table_owner(regclass): only on analogy_feedback, for the
--         SECURITY DEFINER consensus trigger (0003), which runs as the owner
--         and must count every user's verdict. Whoever has the owner's
--         privileges can switch RLS off anyway, so this grants nothing new.
--   * Every context read is wrapped in a scalar sub-select, (SELECT
--     public.current_user_id()), so PostgreSQL evaluates it once per query as an
--     InitPlan instead of once per row.
--   * The policies of a command are OR-ed: the application role's SELECT on
--     courses is filtered by owner_id = (InitPlan) OR (InitPlan admin) OR
--     (InitPlan readonly), and an OR is never an index condition. The policy
--     alone therefore cannot drive an index scan: it is a Filter on whatever
--     the planner scans (s=1 benchmark: a user's course list 1-3 ms p95 with
--     the policy alone, 0.25 ms with the owner condition). Application
--     queries on these five tables repeat the owner condition
--     (WHERE owner_id = current_user_id() / user_id = current_user_id()); uuid
--     equality is leakproof, so it becomes an index condition on the
--     (owner_id, ...) / (user_id, ...) B-trees even under RLS, and RLS still
--     guarantees the result. The 0005 functions do the same (docs/schema.md).
--   * All helpers are SECURITY INVOKER; none needs privileges the caller lacks.
--
-- Idempotent: CREATE OR REPLACE FUNCTION, DROP POLICY IF EXISTS + CREATE POLICY,
-- ALTER TABLE ... ENABLE/FORCE (no-ops when already set). Runs inside
-- pg_migrate's transaction. Rollback: 20250122_0004_rollback.sql.
-- -----------------------------------------------------------------------------
-- squawk: require-lock-timeout and require-statement-timeout are waived: pg_migrate
-- sets lock_timeout and statement_timeout (SET LOCAL) before every file it runs.
-- prefer-robust-stmts is waived: ALTER TABLE ... ENABLE/FORCE ROW LEVEL SECURITY is
-- idempotent by nature, and pg_migrate runs the whole file in one transaction.
-- squawk-ignore-file require-lock-timeout, require-statement-timeout, prefer-robust-stmts
-- =============================================================================

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

CREATE OR REPLACE FUNCTION public.sensa_is_admin()
RETURNS boolean
LANGUAGE sql
STABLE
PARALLEL SAFE
AS $$
    -- pg_has_role() with a role name raises when the role does not exist; looking
    -- the role up first makes a missing sensa_admin simply mean "nobody is admin".
    SELECT EXISTS (
        SELECT 1
          FROM pg_catalog.pg_roles AS r
         WHERE r.rolname = 'sensa_admin'
           AND pg_catalog.pg_has_role(current_user, r.oid, 'MEMBER'))
$$;
COMMENT ON FUNCTION public.sensa_is_admin() IS
    'True when the current role is a member of sensa_admin; false (never an error) when that role does not exist.';

CREATE OR REPLACE FUNCTION public.sensa_is_readonly()
RETURNS boolean
LANGUAGE sql
STABLE
PARALLEL SAFE
AS $$
    SELECT EXISTS (
        SELECT 1
          FROM pg_catalog.pg_roles AS r
         WHERE r.rolname = 'sensa_readonly'
           AND pg_catalog.pg_has_role(current_user, r.oid, 'MEMBER'))
$$;
COMMENT ON FUNCTION public.sensa_is_readonly() IS
    'True when the current role is a member of sensa_readonly (analytics); false when that role does not exist.';

CREATE OR REPLACE FUNCTION public.sensa_is_table_owner(target regclass)
RETURNS boolean
LANGUAGE sql
STABLE
PARALLEL SAFE
AS $$
    SELECT coalesce((
        SELECT pg_catalog.pg_has_role(current_user, c.relowner, 'USAGE')
          FROM pg_catalog.pg_class AS c
         WHERE c.oid = target), false)
$$;
COMMENT ON FUNCTION public.sensa_is_table_owner(regclass) IS
    'True when the current role has the privileges of the table owner (who could disable RLS anyway).';

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
