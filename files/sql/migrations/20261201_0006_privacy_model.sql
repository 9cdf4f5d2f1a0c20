-- =============================================================================
-- 20261201_0006_privacy_model.sql
--
-- What: one visibility model on every table that holds a user's data
--       (docs/schema.md, "Who sees what"):
--   * public.sensa_user_data_tables(): THE list of user-data tables and the
--     table privileges the application group gets on each. This migration,
--     the pg_access role (grants) and its verification (pg_access_info) all
--     read it; nothing else lists protected tables.
--   * course_enrolments: a learner enrols in a PUBLISHED course; a course is
--     readable by its owner and by the learners enrolled in it while it is
--     published (why enrolment rather than "published = readable by everyone":
--     docs/schema.md);
--   * row-level security ENABLED and FORCED on every listed table, policies
--     scoped TO the roles they are for (sensa_app, sensa_admin,
--     sensa_readonly, the table owner) so an application user's policy is an
--     index condition and is not OR-ed with the admin/analytics policies;
--   * content (documents, chapters, chunks, keywords, relationships,
--     complexity) readable wherever its course is, written only by the owner;
--   * learner rows (progress, annotations, feedback) may reference only
--     courses, chapters, chunks and keywords the learner can read;
--   * users: own row only (read, update); admin all; read-only reads all;
--     no INSERT or DELETE for the application: register_user() and
--     delete_user_account() (own account, or an admin);
--   * system-only columns refused to the application (guard triggers);
--   * consensus counted in analogy_consensus under a row lock, correct at
--     every isolation level;
--   * the user context: transaction-local only for application roles, a
--     malformed value means "no user";
--   * re-extracting a chapter keeps learners' annotations and feedback
--     (chapter_id foreign keys ON DELETE SET NULL instead of CASCADE);
--   * get_course_stats: the owner sees the learner figures of their course.
-- Why:  issue 12: content of private courses and every e-mail were readable and
--       writable through the tables 0004 did not protect; users could be
--       deleted around RLS through ON DELETE CASCADE; consensus, badges and
--       completion could be forged; a session-level context leaked behind a
--       transaction pooler.
--
-- Roles: the policies name the group roles sensa_app, sensa_admin and
-- sensa_readonly (fixed names; the pg_access stage creates them before the
-- migrations run). When one is missing and the migrating role may create roles
-- (a bare superuser run), it is created NOLOGIN here; otherwise the migration
-- stops and says to run the pg_access stage first.
--
-- Idempotent: CREATE ... IF NOT EXISTS, CREATE OR REPLACE, guarded DO blocks;
-- every policy of a listed table is dropped and re-created from this file, so a
-- re-run (or a 1.0.0 database) ends with exactly these policies. Runs inside
-- pg_migrate's transaction. Rollback: files/sql/rollbacks/20261201_0006_rollback.sql.
-- -----------------------------------------------------------------------------
-- squawk: require-lock-timeout and require-statement-timeout are waived: pg_migrate
-- sets lock_timeout and statement_timeout (SET LOCAL) before every file it runs.
-- prefer-robust-stmts is waived: ENABLE/FORCE ROW LEVEL SECURITY and the guarded
-- blocks are idempotent, and the whole file runs in one transaction.
-- squawk-ignore-file require-lock-timeout, require-statement-timeout, prefer-robust-stmts
-- prefer-bigint-over-int is waived: the counters (users per analogy, streak days)
-- are bounded far below 2^31 and match the integer streak columns of user_progress.
-- squawk-ignore-file prefer-bigint-over-int
-- =============================================================================

-- -----------------------------------------------------------------------------
-- The group roles the policies are written for.
-- -----------------------------------------------------------------------------
DO $$
DECLARE
    missing text;
    may_create boolean;
BEGIN
    SELECT r.rolsuper OR r.rolcreaterole INTO may_create FROM pg_catalog.pg_roles AS r WHERE r.rolname = current_user;
    FOR missing IN
        SELECT g FROM unnest(ARRAY['sensa_app', 'sensa_admin', 'sensa_readonly']) AS g
         WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles AS r WHERE r.rolname = g)
    LOOP
        IF NOT may_create THEN
            RAISE EXCEPTION 'role % does not exist', missing
                USING ERRCODE = 'undefined_object',
                      HINT = 'Run the pg_access stage (sensa.infra.pg_access, tasks_from: roles.yml) before the migrations.';
        END IF;
        EXECUTE format('CREATE ROLE %I NOLOGIN NOSUPERUSER NOBYPASSRLS', missing);
    END LOOP;
END
$$;

-- -----------------------------------------------------------------------------
-- The list. Table name, the privileges sensa_app gets on it (pg_access grants
-- exactly these), and how its rows are owned (documentation and tests).
-- audit_log is listed because it copies whole rows of audited tables, and
-- analogy_consensus because it is derived from every user's votes: both get
-- row-level security (admin reads) and no application privilege ('system').
-- -----------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION public.sensa_user_data_tables()
RETURNS TABLE (table_name text, app_privileges text[], ownership text)
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
AS $$
    SELECT t.table_name, t.app_privileges, t.ownership
      FROM (VALUES
        ('users',               '{SELECT,UPDATE}'::text[],               'self'),
        ('user_profiles',       '{SELECT,INSERT,UPDATE,DELETE}'::text[], 'learner'),
        ('courses',             '{SELECT,INSERT,UPDATE,DELETE}'::text[], 'course'),
        ('course_enrolments',   '{SELECT,INSERT,DELETE}'::text[],        'learner'),
        ('course_documents',    '{SELECT,INSERT,UPDATE,DELETE}'::text[], 'content'),
        ('chapters',            '{SELECT,INSERT,UPDATE,DELETE}'::text[], 'content'),
        ('processed_documents', '{SELECT,INSERT,UPDATE,DELETE}'::text[], 'content'),
        ('keywords',            '{SELECT,INSERT,UPDATE,DELETE}'::text[], 'content'),
        ('relationships',       '{SELECT,INSERT,UPDATE,DELETE}'::text[], 'content'),
        ('chapter_complexity',  '{SELECT,INSERT,UPDATE,DELETE}'::text[], 'content'),
        ('user_annotations',    '{SELECT,INSERT,UPDATE,DELETE}'::text[], 'learner'),
        ('analogy_feedback',    '{SELECT,INSERT,UPDATE,DELETE}'::text[], 'learner'),
        ('user_progress',       '{SELECT,INSERT,UPDATE,DELETE}'::text[], 'learner'),
        ('user_streaks',        '{SELECT}'::text[],                      'learner'),
        ('audit_log',           '{}'::text[],                            'system'),
        ('analogy_consensus',   '{}'::text[],                            'system'))
        AS t(table_name, app_privileges, ownership)
$$;
COMMENT ON FUNCTION public.sensa_user_data_tables() IS
    'The tables that hold user data (row-level security enabled and forced on each), the privileges the application '
    'group gets on each, and how rows are owned. Read by the migrations, sensa.infra.pg_access and pg_access_info.';

-- -----------------------------------------------------------------------------
-- The user context.
-- -----------------------------------------------------------------------------
-- A value that is not a uuid (garbage written with SET) means "no user" instead of
-- an error in every policy: no context sees nothing, a garbage context neither.
CREATE OR REPLACE FUNCTION public.current_user_id()
RETURNS uuid
LANGUAGE sql
STABLE
PARALLEL SAFE
AS $$
    SELECT CASE WHEN s.v ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN s.v::uuid END
      FROM (SELECT pg_catalog.current_setting('sensa.current_user_id', true) AS v) AS s
$$;
COMMENT ON FUNCTION public.current_user_id() IS
    'The application user of this transaction (sensa.current_user_id), or NULL when no context (or no valid uuid) is set.';

-- Members of sensa_app may only set the context for the current transaction: a
-- session-level value would outlive the transaction behind a transaction pooler
-- and be inherited by the next client served by that server connection.
CREATE OR REPLACE FUNCTION public.set_current_user_id(new_user_id uuid, is_local boolean DEFAULT true)
RETURNS uuid
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog
AS $$
BEGIN
    IF is_local IS DISTINCT FROM true
       AND EXISTS (SELECT 1 FROM pg_catalog.pg_roles AS r
                    WHERE r.rolname = 'sensa_app'
                      AND (pg_catalog.pg_has_role(current_user, r.oid, 'MEMBER')
                           OR pg_catalog.pg_has_role(session_user, r.oid, 'MEMBER'))
                      AND NOT (SELECT s.rolsuper FROM pg_catalog.pg_roles AS s WHERE s.rolname = session_user)) THEN
        RAISE EXCEPTION 'set_current_user_id(..., is_local => false) is refused for members of sensa_app'
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'A session-level user context would be inherited by other clients behind a transaction pooler.',
                  HINT = 'Call set_current_user_id(id) at the start of every transaction.';
    END IF;
    RETURN NULLIF(pg_catalog.set_config('sensa.current_user_id', coalesce(new_user_id::text, ''), coalesce(is_local, true)), '')::uuid;
END
$$;
COMMENT ON FUNCTION public.set_current_user_id(uuid, boolean) IS
    'Sets the application user for row-level security for the current transaction. is_local => false (session level) '
    'is refused for members of sensa_app (pooler safety); other roles (tools) may use it. NULL clears it.';

-- True for the roles that maintain system-only columns: a superuser, a role with
-- the table owner's privileges (the SECURITY DEFINER triggers and functions run
-- as the owner), and members of sensa_admin.
CREATE OR REPLACE FUNCTION public.sensa_is_system(target regclass)
RETURNS boolean
LANGUAGE sql
STABLE
PARALLEL SAFE
AS $$
    SELECT coalesce((SELECT r.rolsuper FROM pg_catalog.pg_roles AS r WHERE r.rolname = current_user), false)
        OR public.sensa_is_table_owner(target)
        OR public.sensa_is_admin()
$$;
COMMENT ON FUNCTION public.sensa_is_system(regclass) IS
    'True when the current role may write system-only columns of the table: superuser, table owner or sensa_admin member.';

-- Whether a course is published, for the enrolment policy (a learner who is not
-- enrolled cannot see the course row yet). Says nothing about private courses.
CREATE OR REPLACE FUNCTION public.sensa_course_is_published(p_course_id uuid)
RETURNS boolean
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce((SELECT c.is_published FROM public.courses AS c WHERE c.id = p_course_id), false)
$$;
COMMENT ON FUNCTION public.sensa_course_is_published(uuid) IS
    'True when the course exists and is published (enrolment policy). SECURITY DEFINER; reveals nothing else.';
REVOKE ALL ON FUNCTION public.sensa_course_is_published(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.sensa_course_is_published(uuid) TO sensa_app;

-- -----------------------------------------------------------------------------
-- course_enrolments
-- -----------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS public.course_enrolments (
    user_id      uuid        NOT NULL,
    course_id    uuid        NOT NULL,
    enrolled_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT course_enrolments_pkey PRIMARY KEY (user_id, course_id),
    CONSTRAINT course_enrolments_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users (id) ON DELETE CASCADE,
    CONSTRAINT course_enrolments_course_id_fkey FOREIGN KEY (course_id) REFERENCES public.courses (id) ON DELETE CASCADE
);
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX IF NOT EXISTS course_enrolments_course_id_idx ON public.course_enrolments (course_id);

COMMENT ON TABLE public.course_enrolments IS
    'A learner enrolled in a published course: the course and its content are readable by them while it stays published.';
COMMENT ON COLUMN public.course_enrolments.user_id IS 'Learner (users.id); enrolments go with the learner.';
COMMENT ON COLUMN public.course_enrolments.course_id IS 'Course (courses.id); must be published when the learner enrols.';
COMMENT ON COLUMN public.course_enrolments.enrolled_at IS 'When the learner enrolled.';


-- -----------------------------------------------------------------------------
-- Re-extracting a chapter must not delete what learners wrote about it: their
-- annotations and feedback lose the chapter reference instead (the course stays).
-- -----------------------------------------------------------------------------
DO $$
DECLARE
    fk record;
BEGIN
    FOR fk IN
        SELECT c.conrelid::regclass AS tbl, c.conname
          FROM pg_catalog.pg_constraint AS c
         WHERE c.conname IN ('user_annotations_chapter_id_fkey', 'analogy_feedback_chapter_id_fkey')
           AND c.connamespace = 'public'::regnamespace
           AND c.confdeltype <> 'n'
    LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', fk.tbl, fk.conname);
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I FOREIGN KEY (chapter_id) REFERENCES public.chapters (id) '
                       'ON DELETE SET NULL NOT VALID', fk.tbl, fk.conname);
        EXECUTE format('ALTER TABLE %s VALIDATE CONSTRAINT %I', fk.tbl, fk.conname);
    END LOOP;
END
$$;
COMMENT ON COLUMN public.user_annotations.chapter_id IS
    'Chapter annotated, if any; NULL once the chapter is deleted (re-extraction keeps the annotation).';
COMMENT ON COLUMN public.analogy_feedback.chapter_id IS
    'Chapter the analogy explains, if any; NULL once the chapter is deleted (re-extraction keeps the feedback).';

-- -----------------------------------------------------------------------------
-- Consensus, counted under a row lock. The 0003 trigger counted the rows its
-- snapshot could see: under REPEATABLE READ or SERIALIZABLE a vote committed by a
-- concurrent transaction was invisible, and three concurrent helpful votes ended
-- with no consensus. Every vote now also moves a counter in analogy_consensus
-- (one row per analogy, INSERT ... ON CONFLICT DO UPDATE): at READ COMMITTED the
-- update waits for and re-reads the concurrent one; at REPEATABLE READ and
-- SERIALIZABLE it fails with a serialization error (40001) that the client
-- retries, so no committed result ever misses a vote.
-- -----------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS public.analogy_consensus (
    analogy_hash       text        NOT NULL,
    helpful_users      integer     NOT NULL DEFAULT 0,
    not_helpful_users  integer     NOT NULL DEFAULT 0,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT analogy_consensus_pkey PRIMARY KEY (analogy_hash),
    CONSTRAINT analogy_consensus_counts_check CHECK (helpful_users >= 0 AND not_helpful_users >= 0)
);
COMMENT ON TABLE public.analogy_consensus IS
    'Per analogy: how many distinct users found it helpful or not (counts only, no user). Written only by the '
    'consensus trigger; the serialisation point that makes consensus correct at every isolation level.';
COMMENT ON COLUMN public.analogy_consensus.analogy_hash IS 'The analogy (analogy_feedback.analogy_hash).';
COMMENT ON COLUMN public.analogy_consensus.helpful_users IS 'Users whose feedback row says helpful.';
COMMENT ON COLUMN public.analogy_consensus.not_helpful_users IS 'Users whose feedback row says not helpful.';
COMMENT ON COLUMN public.analogy_consensus.updated_at IS 'Last change of the counts.';

CREATE OR REPLACE FUNCTION public.analogy_feedback_consensus()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    min_users constant integer := 3;
    vote      record;
    yes_users integer;
    no_users  integer;
    verdict   boolean;
BEGIN
    -- One (hash, +/-1 helpful, +/-1 not helpful) change per side of the row.
    FOR vote IN
        SELECT v.h, sum(v.dy)::integer AS dy, sum(v.dn)::integer AS dn
          FROM (SELECT OLD.analogy_hash, CASE WHEN OLD.helpful THEN -1 ELSE 0 END, CASE WHEN OLD.helpful THEN 0 ELSE -1 END
                 WHERE TG_OP IN ('UPDATE', 'DELETE')
                UNION ALL
                SELECT NEW.analogy_hash, CASE WHEN NEW.helpful THEN 1 ELSE 0 END, CASE WHEN NEW.helpful THEN 0 ELSE 1 END
                 WHERE TG_OP IN ('INSERT', 'UPDATE')) AS v(h, dy, dn)
         GROUP BY v.h
         ORDER BY v.h
    LOOP
        INSERT INTO public.analogy_consensus AS c (analogy_hash, helpful_users, not_helpful_users)
        VALUES (vote.h, greatest(vote.dy, 0), greatest(vote.dn, 0))
            ON CONFLICT (analogy_hash) DO UPDATE
           SET helpful_users = c.helpful_users + vote.dy,
               not_helpful_users = c.not_helpful_users + vote.dn,
               updated_at = now()
        RETURNING c.helpful_users, c.not_helpful_users INTO yes_users, no_users;
        verdict := CASE
            WHEN yes_users >= min_users AND yes_users > no_users THEN true
            WHEN no_users >= min_users AND no_users > yes_users THEN false
        END;
        UPDATE public.analogy_feedback AS f
           SET consensus_reached = (verdict IS NOT NULL),
               consensus_helpful = verdict
         WHERE f.analogy_hash = vote.h
           AND (f.consensus_reached, f.consensus_helpful) IS DISTINCT FROM (verdict IS NOT NULL, verdict);
    END LOOP;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION public.analogy_feedback_consensus() IS
    'AFTER trigger: counts the vote in analogy_consensus (row lock) and flags consensus on every row of the analogy '
    'once >= 3 distinct users share the majority verdict.';
REVOKE ALL ON FUNCTION public.analogy_feedback_consensus() FROM PUBLIC;


-- -----------------------------------------------------------------------------
-- System-only columns. The application role may not write them; superusers, the
-- owner (SECURITY DEFINER triggers) and admins may. A BEFORE trigger named so it
-- fires first (triggers fire in name order) compares the new row with the old
-- one (or with the column defaults on INSERT) and refuses the statement.
-- -----------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION public.sensa_refuse_system_columns()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
DECLARE
    new_row jsonb := to_jsonb(NEW);
    old_row jsonb;
    col     text;
    initial jsonb;
BEGIN
    IF public.sensa_is_system(TG_RELID) THEN
        RETURN NEW;
    END IF;
    -- TG_ARGV[0]: a JSON object column -> value a new row must have (NULL: any).
    initial := TG_ARGV[0]::jsonb;
    IF TG_OP = 'UPDATE' THEN
        old_row := to_jsonb(OLD);
    END IF;
    FOR col IN SELECT jsonb_object_keys(initial) LOOP
        IF (TG_OP = 'UPDATE' AND new_row -> col IS DISTINCT FROM old_row -> col)
           OR (TG_OP = 'INSERT' AND initial -> col <> 'null'::jsonb AND new_row -> col IS DISTINCT FROM initial -> col) THEN
            RAISE EXCEPTION 'column %.% is written only by the system', TG_TABLE_NAME, col
                USING ERRCODE = 'insufficient_privilege',
                      HINT = 'It is maintained by triggers and SECURITY DEFINER functions; leave it out of the statement.';
        END IF;
    END LOOP;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION public.sensa_refuse_system_columns() IS
    'BEFORE INSERT/UPDATE trigger: refuses writes of the listed system-only columns (TG_ARGV[0]: column -> initial '
    'value) unless sensa_is_system().';

CREATE OR REPLACE TRIGGER users_a_refuse_system_columns BEFORE INSERT OR UPDATE ON public.users
    FOR EACH ROW EXECUTE FUNCTION public.sensa_refuse_system_columns('{"id": null, "cognito_sub": null, "role": "learner"}');
CREATE OR REPLACE TRIGGER analogy_feedback_a_refuse_system_columns BEFORE INSERT OR UPDATE ON public.analogy_feedback
    FOR EACH ROW EXECUTE FUNCTION public.sensa_refuse_system_columns(
        '{"consensus_reached": false, "consensus_helpful": null}');
CREATE OR REPLACE TRIGGER user_progress_a_refuse_system_columns BEFORE INSERT OR UPDATE ON public.user_progress
    FOR EACH ROW EXECUTE FUNCTION public.sensa_refuse_system_columns(
        '{"status": "not_started", "completion_percent": 0, "chapter_completed_at": {}, "badges": [],
          "current_streak": 0, "longest_streak": 0, "last_activity_date": null, "started_at": null,
          "completed_at": null}');

-- Completion follows the chapters a learner completed: the share of the course's
-- chapters in completed_chapter_ids (the learner writes that column; the trigger
-- of 0003 then sets status, started_at and completed_at). Only when the list
-- changes, so an admin or a backfill may still set completion_percent directly.
CREATE OR REPLACE FUNCTION public.user_progress_derive_completion()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
DECLARE
    total bigint;
    done  bigint;
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.completed_chapter_ids IS NOT DISTINCT FROM OLD.completed_chapter_ids THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'INSERT' AND cardinality(NEW.completed_chapter_ids) = 0 THEN
        RETURN NEW;
    END IF;
    SELECT count(*), count(*) FILTER (WHERE ch.id = ANY (NEW.completed_chapter_ids))
      INTO total, done
      FROM public.chapters AS ch
     WHERE ch.course_id = NEW.course_id;
    IF done < cardinality(ARRAY(SELECT DISTINCT x FROM unnest(NEW.completed_chapter_ids) AS x WHERE x IS NOT NULL)) THEN
        RAISE EXCEPTION 'completed_chapter_ids of progress % names a chapter that is not in course %', NEW.id, NEW.course_id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    NEW.completion_percent := CASE WHEN total = 0 THEN 0 ELSE round(100.0 * done / total, 2) END;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION public.user_progress_derive_completion() IS
    'BEFORE trigger: completion_percent = share of the course''s chapters in completed_chapter_ids (readable chapters only).';

CREATE OR REPLACE TRIGGER user_progress_b_derive_completion BEFORE INSERT OR UPDATE OF completed_chapter_ids
    ON public.user_progress
    FOR EACH ROW EXECUTE FUNCTION public.user_progress_derive_completion();

-- -----------------------------------------------------------------------------
-- A user's streak counts study on any course: user_streaks holds one streak per
-- user, moved by every activity recorded on any of their progress rows (the
-- per-course columns of user_progress keep meaning "streak on this course").
-- Same day rules as 0003: same day unchanged, next day +1, a gap resets to 1, a
-- late event for an earlier day is ignored. Written only by the trigger
-- (SECURITY DEFINER: the application has no write privilege on the table).
-- -----------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS public.user_streaks (
    user_id             uuid        NOT NULL,
    current_streak      integer     NOT NULL DEFAULT 0,
    longest_streak      integer     NOT NULL DEFAULT 0,
    last_activity_date  date,
    last_activity_at    timestamptz,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT user_streaks_pkey PRIMARY KEY (user_id),
    CONSTRAINT user_streaks_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users (id) ON DELETE CASCADE,
    CONSTRAINT user_streaks_check CHECK (current_streak >= 0 AND longest_streak >= current_streak)
);
COMMENT ON TABLE public.user_streaks IS
    'One learning streak per user over all their courses (calendar days in the user time zone); written by trigger only.';
COMMENT ON COLUMN public.user_streaks.user_id IS 'Learner (users.id); goes with the learner.';
COMMENT ON COLUMN public.user_streaks.current_streak IS 'Consecutive active days up to last_activity_date, any course.';
COMMENT ON COLUMN public.user_streaks.longest_streak IS 'Longest streak ever reached, any course.';
COMMENT ON COLUMN public.user_streaks.last_activity_date IS 'Last active calendar day in the user time zone.';
COMMENT ON COLUMN public.user_streaks.last_activity_at IS 'Newest recorded activity on any course.';
COMMENT ON COLUMN public.user_streaks.updated_at IS 'Last change.';

CREATE OR REPLACE FUNCTION public.user_streaks_record_activity()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tz   text;
    day  date;
    s    public.user_streaks%ROWTYPE;
BEGIN
    IF NEW.last_activity_at IS NULL
       OR (TG_OP = 'UPDATE' AND NEW.last_activity_at IS NOT DISTINCT FROM OLD.last_activity_at) THEN
        RETURN NULL;
    END IF;
    SELECT u.time_zone INTO tz FROM public.users AS u WHERE u.id = NEW.user_id;
    day := (NEW.last_activity_at AT TIME ZONE coalesce(tz, 'UTC'))::date;
    -- The row lock serialises a user's concurrent activity on several courses.
    INSERT INTO public.user_streaks (user_id) VALUES (NEW.user_id) ON CONFLICT (user_id) DO NOTHING;
    SELECT * INTO s FROM public.user_streaks AS us WHERE us.user_id = NEW.user_id FOR UPDATE;
    IF s.last_activity_date IS NULL OR day > s.last_activity_date + 1 THEN
        s.current_streak := 1;
    ELSIF day = s.last_activity_date + 1 THEN
        s.current_streak := s.current_streak + 1;
    ELSIF day < s.last_activity_date THEN
        RETURN NULL;  -- a late event for an earlier day
    END IF;
    UPDATE public.user_streaks AS us
       SET current_streak = s.current_streak,
           longest_streak = greatest(s.longest_streak, s.current_streak),
           last_activity_date = greatest(day, s.last_activity_date),
           last_activity_at = greatest(NEW.last_activity_at, s.last_activity_at),
           updated_at = now()
     WHERE us.user_id = NEW.user_id;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION public.user_streaks_record_activity() IS
    'AFTER trigger on user_progress: moves the user''s streak over all courses (user_streaks) when activity is recorded.';
REVOKE ALL ON FUNCTION public.user_streaks_record_activity() FROM PUBLIC;

CREATE OR REPLACE TRIGGER user_progress_record_user_streak
    AFTER INSERT OR UPDATE OF last_activity_at ON public.user_progress
    FOR EACH ROW EXECUTE FUNCTION public.user_streaks_record_activity();


-- -----------------------------------------------------------------------------
-- Users: created and deleted only through these functions.
-- -----------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION public.register_user(
    p_cognito_sub text, p_email text, p_display_name text DEFAULT NULL, p_time_zone text DEFAULT 'UTC')
RETURNS uuid
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    new_id uuid;
BEGIN
    -- Sign-up: a learner, with a key the database chooses. Signing up again with the
    -- same Cognito subject returns the existing account.
    INSERT INTO public.users (cognito_sub, email, display_name, time_zone)
    VALUES (p_cognito_sub, p_email, p_display_name, coalesce(p_time_zone, 'UTC'))
        ON CONFLICT (cognito_sub) DO NOTHING
    RETURNING id INTO new_id;
    IF new_id IS NULL THEN
        SELECT u.id INTO new_id FROM public.users AS u WHERE u.cognito_sub = p_cognito_sub;
    END IF;
    RETURN new_id;
END
$$;
COMMENT ON FUNCTION public.register_user(text, text, text, text) IS
    'Creates a learner account for a Cognito subject (or returns the existing one) and returns its id.';
REVOKE ALL ON FUNCTION public.register_user(text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.register_user(text, text, text, text) TO sensa_app;

CREATE OR REPLACE FUNCTION public.delete_user_account(p_user_id uuid)
RETURNS boolean
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    -- Evaluated as the caller: inside this function current_user is the owner, so
    -- the admin test looks at the session's login (pooled logins are never admins).
    caller_is_admin boolean := EXISTS (
        SELECT 1 FROM pg_catalog.pg_roles AS r
         WHERE r.rolname = 'sensa_admin' AND pg_catalog.pg_has_role(session_user, r.oid, 'MEMBER'));
    deleted integer;
BEGIN
    -- coalesce: with no context the comparison is NULL, and NOT NULL would let it through.
    IF p_user_id IS NULL OR NOT coalesce(caller_is_admin OR p_user_id = public.current_user_id(), false) THEN
        RAISE EXCEPTION 'only the account itself or an admin may delete user %', p_user_id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    -- ON DELETE CASCADE then removes the user's profile, courses (with their
    -- content and the enrolments, progress, annotations and feedback on them),
    -- enrolments, progress, annotations and feedback.
    DELETE FROM public.users AS u WHERE u.id = p_user_id;
    GET DIAGNOSTICS deleted = ROW_COUNT;
    RETURN deleted > 0;
END
$$;
COMMENT ON FUNCTION public.delete_user_account(uuid) IS
    'Deletes a user and everything that cascades from it; only for the current user''s own account or an admin login.';
REVOKE ALL ON FUNCTION public.delete_user_account(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.delete_user_account(uuid) TO sensa_app;

-- -----------------------------------------------------------------------------
-- Row-level security on every listed table, and its policies.
--
-- Readable course ids are computed once per statement as an InitPlan
-- (ARRAY(SELECT ...) under the caller's own row-level security) and compared
-- with = ANY, which is an index condition; content policies chain: chunks via
-- their documents, relationships via keywords, complexity via chapters.
-- -----------------------------------------------------------------------------
DO $$
DECLARE
    t       record;
    p       record;
    owner   text;
    me      constant text := '(SELECT public.current_user_id())';
    readable_courses constant text := 'ARRAY(SELECT c.id FROM public.courses AS c)';
    owned_courses constant text :=
        'ARRAY(SELECT c.id FROM public.courses AS c WHERE c.owner_id = (SELECT public.current_user_id()))';
    readable_documents constant text := 'ARRAY(SELECT d.id FROM public.course_documents AS d)';
    owned_documents constant text := format(
        'ARRAY(SELECT d.id FROM public.course_documents AS d WHERE d.course_id = ANY (%s))', owned_courses);
    readable_chapters constant text := 'ARRAY(SELECT ch.id FROM public.chapters AS ch)';
    owned_chapters constant text := format(
        'ARRAY(SELECT ch.id FROM public.chapters AS ch WHERE ch.course_id = ANY (%s))', owned_courses);
    readable_keywords constant text := 'ARRAY(SELECT k.id FROM public.keywords AS k)';
    owned_keywords constant text := format(
        'ARRAY(SELECT k.id FROM public.keywords AS k WHERE k.course_id = ANY (%s))', owned_courses);
    readable_chunks constant text := 'ARRAY(SELECT pd.id FROM public.processed_documents AS pd)';
    -- What a learner row may point at: only what the learner can read.
    learner_links constant text := format(
        'user_id = %1$s AND course_id = ANY (%2$s) AND (chapter_id IS NULL OR chapter_id = ANY (%3$s))',
        me, readable_courses, readable_chapters);
    sel text;
    ins text;
    upd text;
    del text;
BEGIN
    FOR t IN SELECT u.table_name, u.ownership FROM public.sensa_user_data_tables() AS u LOOP
        EXECUTE format('ALTER TABLE public.%I ENABLE ROW LEVEL SECURITY', t.table_name);
        EXECUTE format('ALTER TABLE public.%I FORCE ROW LEVEL SECURITY', t.table_name);
        FOR p IN SELECT pol.polname FROM pg_catalog.pg_policy AS pol
                  WHERE pol.polrelid = format('public.%I', t.table_name)::regclass LOOP
            EXECUTE format('DROP POLICY %I ON public.%I', p.polname, t.table_name);
        END LOOP;
        SELECT pg_catalog.pg_get_userbyid(c.relowner) INTO owner
          FROM pg_catalog.pg_class AS c WHERE c.oid = format('public.%I', t.table_name)::regclass;

        sel := NULL; ins := NULL; upd := NULL; del := NULL;
        CASE t.table_name
            WHEN 'users' THEN
                sel := format('id = %s', me);
                upd := sel;
            WHEN 'user_profiles' THEN
                sel := format('user_id = %s', me);
                ins := sel; upd := sel; del := sel;
            WHEN 'course_enrolments' THEN
                sel := format('user_id = %s', me);
                ins := format('user_id = %s AND public.sensa_course_is_published(course_id)', me);
                del := sel;
            WHEN 'courses' THEN
                -- Owner, or enrolled while published. Both arms are index conditions
                -- (courses_owner_id_* and courses_pkey): a BitmapOr, no scan of everyone's courses.
                sel := format('owner_id = %s OR (id = ANY (ARRAY(SELECT e.course_id FROM public.course_enrolments AS e)) '
                              'AND is_published)', me);
                ins := format('owner_id = %s', me); upd := ins; del := ins;
            WHEN 'course_documents', 'chapters', 'keywords' THEN
                sel := format('course_id = ANY (%s)', readable_courses);
                ins := format('course_id = ANY (%s)', owned_courses); upd := ins; del := ins;
                IF t.table_name = 'course_documents' THEN
                    ins := ins || format(' AND (uploaded_by IS NULL OR uploaded_by = %s)', me);
                    upd := ins;
                ELSIF t.table_name = 'chapters' THEN
                    ins := ins || format(' AND (course_document_id IS NULL OR course_document_id = ANY (%s))', owned_documents);
                    upd := ins;
                ELSIF t.table_name = 'keywords' THEN
                    ins := ins || format(' AND (chapter_id IS NULL OR chapter_id = ANY (%s))', owned_chapters);
                    upd := ins;
                END IF;
            WHEN 'processed_documents' THEN
                sel := format('course_document_id = ANY (%s)', readable_documents);
                del := format('course_document_id = ANY (%s)', owned_documents);
                ins := del || format(' AND (chapter_id IS NULL OR chapter_id = ANY (%s))', owned_chapters);
                upd := ins;
            WHEN 'relationships' THEN
                sel := format('source_keyword_id = ANY (%s)', readable_keywords);
                del := format('source_keyword_id = ANY (%s)', owned_keywords);
                ins := format('source_keyword_id = ANY (%1$s) AND target_keyword_id = ANY (%1$s)', owned_keywords);
                upd := ins;
            WHEN 'chapter_complexity' THEN
                sel := format('chapter_id = ANY (%s)', readable_chapters);
                ins := format('chapter_id = ANY (%s)', owned_chapters); upd := ins; del := ins;
            WHEN 'user_progress' THEN
                sel := format('user_id = %s', me);
                ins := format('user_id = %s AND course_id = ANY (%s)', me, readable_courses);
                upd := ins; del := sel;
            WHEN 'user_annotations' THEN
                sel := format('user_id = %s', me);
                ins := learner_links
                    || format(' AND (processed_document_id IS NULL OR processed_document_id = ANY (%s))', readable_chunks);
                upd := ins; del := sel;
            WHEN 'analogy_feedback' THEN
                sel := format('user_id = %s', me);
                ins := learner_links || format(' AND (keyword_id IS NULL OR keyword_id = ANY (%s))', readable_keywords);
                upd := ins; del := sel;
            WHEN 'user_streaks' THEN
                sel := format('user_id = %s', me);  -- written only by its trigger
            WHEN 'audit_log', 'analogy_consensus' THEN
                NULL;  -- no application policy at all
            ELSE
                RAISE EXCEPTION 'sensa_user_data_tables() lists %, for which this migration has no policies', t.table_name;
        END CASE;

        IF sel IS NOT NULL THEN
            EXECUTE format('CREATE POLICY %I ON public.%I AS PERMISSIVE FOR SELECT TO sensa_app USING (%s)',
                           t.table_name || '_app_select', t.table_name, sel);
        END IF;
        IF ins IS NOT NULL THEN
            EXECUTE format('CREATE POLICY %I ON public.%I AS PERMISSIVE FOR INSERT TO sensa_app WITH CHECK (%s)',
                           t.table_name || '_app_insert', t.table_name, ins);
        END IF;
        IF upd IS NOT NULL THEN
            EXECUTE format('CREATE POLICY %I ON public.%I AS PERMISSIVE FOR UPDATE TO sensa_app USING (%s) WITH CHECK (%s)',
                           t.table_name || '_app_update', t.table_name, coalesce(del, sel), upd);
        END IF;
        IF del IS NOT NULL THEN
            EXECUTE format('CREATE POLICY %I ON public.%I AS PERMISSIVE FOR DELETE TO sensa_app USING (%s)',
                           t.table_name || '_app_delete', t.table_name, del);
        END IF;
        IF t.ownership = 'system' THEN
            EXECUTE format('CREATE POLICY %I ON public.%I AS PERMISSIVE FOR SELECT TO sensa_admin USING (true)',
                           t.table_name || '_admin_select', t.table_name);
        ELSE
            EXECUTE format('CREATE POLICY %I ON public.%I AS PERMISSIVE FOR ALL TO sensa_admin USING (true) WITH CHECK (true)',
                           t.table_name || '_admin_all', t.table_name);
            EXECUTE format('CREATE POLICY %I ON public.%I AS PERMISSIVE FOR SELECT TO sensa_readonly USING (true)',
                           t.table_name || '_readonly_select', t.table_name);
        END IF;
        -- The owner: SECURITY DEFINER triggers and functions (consensus, audit,
        -- register_user, delete_user_account) run as it and FORCE applies to it.
        -- Whoever has the owner's privileges can switch RLS off anyway.
        EXECUTE format('CREATE POLICY %I ON public.%I AS PERMISSIVE FOR ALL TO %I USING (true) WITH CHECK (true)',
                       t.table_name || '_owner_all', t.table_name, owner);

        EXECUTE format('COMMENT ON POLICY %I ON public.%I IS %L', t.table_name || '_admin_' ||
                       CASE WHEN t.ownership = 'system' THEN 'select' ELSE 'all' END, t.table_name,
                       'Members of sensa_admin: every row.');
        IF t.ownership <> 'system' THEN
            EXECUTE format('COMMENT ON POLICY %I ON public.%I IS %L', t.table_name || '_readonly_select', t.table_name,
                           'Members of sensa_readonly (analytics): read every row.');
        END IF;
        EXECUTE format('COMMENT ON POLICY %I ON public.%I IS %L', t.table_name || '_owner_all', t.table_name,
                       'The table owner (SECURITY DEFINER triggers and functions run as it).');
        FOR p IN SELECT pol.polname FROM pg_catalog.pg_policy AS pol
                  WHERE pol.polrelid = format('public.%I', t.table_name)::regclass AND pol.polname LIKE '%\_app\_%' LOOP
            EXECUTE format('COMMENT ON POLICY %I ON public.%I IS %L', p.polname, t.table_name,
                           format('Application users (%s rows): see docs/schema.md, "Who sees what".', t.ownership));
        END LOOP;
    END LOOP;
END
$$;

-- Table privileges follow the list too (pg_access applies the same list to
-- tables later migrations add): the application group gets exactly the listed
-- privileges, analytics reads everything but the system tables.
DO $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT u.table_name, u.app_privileges, u.ownership FROM public.sensa_user_data_tables() AS u LOOP
        EXECUTE format('REVOKE ALL ON public.%I FROM sensa_app, sensa_readonly', t.table_name);
        IF cardinality(t.app_privileges) > 0 THEN
            EXECUTE format('GRANT %s ON public.%I TO sensa_app', array_to_string(t.app_privileges, ', '), t.table_name);
        END IF;
        IF t.ownership <> 'system' THEN
            EXECUTE format('GRANT SELECT ON public.%I TO sensa_readonly', t.table_name);
        END IF;
    END LOOP;
END
$$;

-- -----------------------------------------------------------------------------
-- Course statistics: the owner sees how many learners study their course (the
-- learners' own rows stay private to them); everyone else who can read the
-- course gets the content figures and only their own progress in the learner ones.
-- -----------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION public.course_learner_figures(p_course_id uuid)
RETURNS TABLE (learner_count bigint, completed_learner_count bigint, avg_completion_percent numeric)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    -- Runs as the owner (sees every row); answers only for a course the caller owns.
    SELECT count(*), count(*) FILTER (WHERE up.status = 'completed'), round(avg(up.completion_percent), 2)
      FROM public.user_progress AS up
     WHERE up.course_id = p_course_id
       AND EXISTS (SELECT 1 FROM public.courses AS c
                    WHERE c.id = p_course_id AND c.owner_id = public.current_user_id())
$$;
COMMENT ON FUNCTION public.course_learner_figures(uuid) IS
    'Learner count, completed learners and average completion of a course the current user owns (zeros otherwise).';
REVOKE ALL ON FUNCTION public.course_learner_figures(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.course_learner_figures(uuid) TO sensa_app;

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
PARALLEL SAFE
SET search_path = pg_catalog, public
AS $$
    SELECT c.id,
           d.document_count, d.documents_processed, d.documents_in_flight, d.documents_failed, d.total_size_bytes,
           ch.chapter_count,
           pd.chunk_count, pd.embedded_chunk_count, pd.total_tokens,
           k.keyword_count,
           r.relationship_count,
           CASE WHEN c.owner_id = public.current_user_id() THEN o.learner_count ELSE p.learner_count END,
           CASE WHEN c.owner_id = public.current_user_id() THEN o.completed_learner_count ELSE p.completed_learner_count END,
           CASE WHEN c.owner_id = public.current_user_id() THEN o.avg_completion_percent ELSE p.avg_completion_percent END
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
      CROSS JOIN LATERAL public.course_learner_figures(c.id) AS o
     WHERE c.id = p_course_id
$$;
COMMENT ON FUNCTION public.get_course_stats(uuid) IS
    'Content and learner figures of one course; no row when the caller cannot see the course. The owner gets the '
    'learner figures of every learner (course_learner_figures); other readers only their own progress; admin and '
    'analytics roles every row.';

-- -----------------------------------------------------------------------------
-- Backfills for a 1.0.0 database. Last, because this file runs as the owner and
-- FORCE applies to it: at 1.0.0 the owner saw no protected row; the *_owner_all
-- policies above let it read them.
-- -----------------------------------------------------------------------------
-- Learners already studying a published course at 1.0.0 (progress, annotations or
-- feedback on it) are enrolled, so they keep reading it after the upgrade.
INSERT INTO public.course_enrolments (user_id, course_id, enrolled_at)
SELECT DISTINCT ON (x.user_id, x.course_id) x.user_id, x.course_id, x.created_at
  FROM (SELECT user_id, course_id, created_at FROM public.user_progress
        UNION ALL SELECT user_id, course_id, created_at FROM public.user_annotations
        UNION ALL SELECT user_id, course_id, created_at FROM public.analogy_feedback) AS x
  JOIN public.courses AS c ON c.id = x.course_id
 WHERE c.is_published AND c.owner_id <> x.user_id
 ORDER BY x.user_id, x.course_id, x.created_at
    ON CONFLICT (user_id, course_id) DO NOTHING;

-- The counts of a 1.0.0 database (recomputed on a re-run: same result).
INSERT INTO public.analogy_consensus AS c (analogy_hash, helpful_users, not_helpful_users)
SELECT f.analogy_hash, count(*) FILTER (WHERE f.helpful), count(*) FILTER (WHERE NOT f.helpful)
  FROM public.analogy_feedback AS f
 GROUP BY f.analogy_hash
    ON CONFLICT (analogy_hash) DO UPDATE
   SET helpful_users = excluded.helpful_users, not_helpful_users = excluded.not_helpful_users
 WHERE (c.helpful_users, c.not_helpful_users) IS DISTINCT FROM (excluded.helpful_users, excluded.not_helpful_users);

-- Streaks of a 1.0.0 database: the best course streak on each user's latest active
-- day (per-course history cannot be merged exactly; this never overstates it).
INSERT INTO public.user_streaks (user_id, current_streak, longest_streak, last_activity_date, last_activity_at)
SELECT up.user_id,
       max(up.current_streak) FILTER (WHERE up.last_activity_date = m.last_day),
       greatest(max(up.longest_streak), max(up.current_streak) FILTER (WHERE up.last_activity_date = m.last_day)),
       m.last_day, max(up.last_activity_at)
  FROM public.user_progress AS up
  JOIN (SELECT user_id, max(last_activity_date) AS last_day FROM public.user_progress
         WHERE last_activity_date IS NOT NULL GROUP BY user_id) AS m ON m.user_id = up.user_id
 WHERE up.last_activity_date IS NOT NULL
 GROUP BY up.user_id, m.last_day
    ON CONFLICT (user_id) DO NOTHING;
