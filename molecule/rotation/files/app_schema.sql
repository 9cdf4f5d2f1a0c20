-- Stand-in for what pg_access and the migrations provide (roles, set_current_user_id, an RLS table),
-- so the scenario tests rotation on its own. Idempotent.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sensa_migrator') THEN CREATE ROLE sensa_migrator NOLOGIN; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sensa_app') THEN CREATE ROLE sensa_app NOLOGIN; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sensa_app_a') THEN CREATE ROLE sensa_app_a LOGIN IN ROLE sensa_app; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sensa_app_b') THEN CREATE ROLE sensa_app_b LOGIN IN ROLE sensa_app; END IF;
END $$;
GRANT CONNECT ON DATABASE sensa TO sensa_app;
GRANT USAGE, CREATE ON SCHEMA public TO sensa_migrator;
SET ROLE sensa_migrator;
CREATE OR REPLACE FUNCTION public.set_current_user_id(user_id uuid, is_local boolean DEFAULT true) RETURNS void
  LANGUAGE sql SET search_path = pg_catalog
  AS $f$ SELECT set_config('sensa.current_user_id', COALESCE(user_id::text, ''), is_local) $f$;
CREATE OR REPLACE FUNCTION public.current_user_id() RETURNS uuid LANGUAGE sql STABLE SET search_path = pg_catalog
  AS $f$ SELECT NULLIF(current_setting('sensa.current_user_id', true), '')::uuid $f$;
CREATE TABLE IF NOT EXISTS public.courses (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), user_id uuid NOT NULL, title text NOT NULL);
ALTER TABLE public.courses ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.courses FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS courses_owner ON public.courses;
CREATE POLICY courses_owner ON public.courses TO PUBLIC
  USING (user_id = public.current_user_id()) WITH CHECK (user_id = public.current_user_id());
RESET ROLE;
REVOKE ALL ON FUNCTION public.set_current_user_id(uuid, boolean), public.current_user_id() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.set_current_user_id(uuid, boolean), public.current_user_id() TO sensa_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.courses TO sensa_app;
