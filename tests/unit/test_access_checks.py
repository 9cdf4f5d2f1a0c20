"""Pure logic of plugins/module_utils/access_checks.py: facts in, named violations out."""

import copy

import pytest

from support.collection import ensure_collection_link

ensure_collection_link()

from ansible_collections.sensa.infra.plugins.module_utils import access_checks as ac  # noqa: E402

# The 1.0.0 list, given explicitly (the default is now the database's own list: see the
# tests of user_data_tables below).
FIVE = ("user_profiles", "courses", "user_annotations", "user_progress", "analogy_feedback")
CONFIG = ac.AccessConfig(app_roles=["sensa_app", "sensa_app_a"], protected_tables=FIVE)


def role(name, login=False, **attrs):
    base = dict(name=name, superuser=False, inherit=True, createrole=False, createdb=False, login=login,
                replication=False, bypassrls=False, connection_limit=-1, valid_until=None, member_of=[])
    base.update(attrs)
    return base


def clean_privileges():
    return dict(database_create=False, database_temporary=False, database_connect=True, create_schemas=[],
                member_of_watched=[], ddl_like_table_privileges=[])


def table(name, owner="sensa_migrator", enabled=True, forced=True, kind="table"):
    return dict(schema="public", name=name, kind=kind, owner=owner, rls_enabled=enabled, rls_forced=forced, owned_by_table=None)


def function(name, args="", secdef=False, search_path=None, public_execute=True, owner="sensa_migrator"):
    return dict(schema="public", name=name, identity_arguments=args, argument_types=args, owner=owner,
                security_definer=secdef, kind="function", returns_trigger=False, search_path=search_path,
                public_execute=public_execute, privs_signature=ac.privs_signature(name, args))


@pytest.fixture
def facts():
    return dict(
        database="sensa",
        current_user="postgres",
        server_version_num=150010,
        current_user_is_superuser=True,
        roles=[role("postgres", login=True, superuser=True), role("sensa_migrator"), role("sensa_app"),
               role("sensa_app_a", login=True, member_of=["sensa_app"])],
        schemas=[dict(name="public", owner="sensa_migrator")],
        relations=[table(t) for t in FIVE] + [table("users", enabled=False, forced=False)],
        functions=[function("current_user_id"),
                   function("audit_row_change", secdef=True, search_path="search_path=pg_catalog", public_execute=False)],
        types=[dict(schema="public", name="user_role", kind="enum type", owner="sensa_migrator")],
        app_role_privileges={"sensa_app": clean_privileges(), "sensa_app_a": clean_privileges()},
    )


def checks(violations):
    return sorted((v["check"], v["object"]) for v in violations)


def test_clean_model_has_no_violation(facts):
    assert ac.evaluate(facts, CONFIG) == []
    assert ac.summarize([]) == "no access-model violations"


def test_rls_must_be_enabled_and_forced_and_tables_must_exist(facts):
    facts["relations"][0]["rls_forced"] = False
    facts["relations"][1].update(rls_enabled=False, rls_forced=False)
    facts["relations"] = [r for r in facts["relations"] if r["name"] != "analogy_feedback"]
    assert checks(ac.evaluate(facts, CONFIG)) == [
        ("protected_table_missing", "analogy_feedback"),
        ("rls_not_enabled", "public.courses"),
        ("rls_not_forced", "public.courses"),
        ("rls_not_forced", "public.user_profiles"),
    ]


def test_a_view_does_not_count_as_the_protected_table(facts):
    facts["relations"][0]["kind"] = "view"
    assert ("protected_table_missing", "user_profiles") in checks(ac.evaluate(facts, CONFIG))


def test_schema_qualified_protected_table(facts):
    config = ac.AccessConfig(protected_tables=["public.courses", "other.courses"], app_roles=[])
    assert checks(ac.evaluate(facts, config)) == [("protected_table_missing", "other.courses")]


def test_login_roles_and_app_roles_must_not_own_objects(facts):
    facts["relations"].append(table("rogue", owner="postgres"))
    facts["functions"].append(function("helper", args="uuid", owner="sensa_app"))
    facts["types"].append(dict(schema="public", name="mood", kind="enum type", owner="sensa_app_a"))
    facts["schemas"][0]["owner"] = "pg_database_owner"  # NOLOGIN, unknown to us: fine
    found = [v for v in ac.evaluate(facts, CONFIG) if v["check"] == "owner_not_migrator"]
    assert checks(found) == [
        ("owner_not_migrator", "public.helper(uuid)"),
        ("owner_not_migrator", "public.mood"),
        ("owner_not_migrator", "public.rogue"),
    ]
    assert "login role postgres" in [v for v in found if v["object"] == "public.rogue"][0]["message"]


def test_a_login_migrator_may_own_everything(facts):
    facts["roles"][1]["login"] = True
    assert ac.evaluate(facts, CONFIG) == []


def test_security_definer_needs_pinned_search_path_and_no_public_execute(facts):
    facts["functions"].append(function("risky", args="p uuid", secdef=True))
    found = ac.evaluate(facts, CONFIG)
    assert checks(found) == [
        ("security_definer_public_execute", "public.risky(p uuid)"),
        ("security_definer_search_path", "public.risky(p uuid)"),
    ]
    assert "REVOKE EXECUTE ON FUNCTION public.risky(p uuid) FROM PUBLIC" in ac.summarize(found)


def test_migrator_must_exist_and_not_bypass_rls_unless_allowed(facts):
    facts["roles"][1]["bypassrls"] = True
    assert checks(ac.evaluate(facts, CONFIG)) == [("migrator_bypassrls", "sensa_migrator")]
    allowed = ac.AccessConfig(app_roles=["sensa_app", "sensa_app_a"], migrator_may_bypass_rls=True)
    assert ac.evaluate(facts, allowed) == []
    facts["roles"] = [r for r in facts["roles"] if r["name"] != "sensa_migrator"]
    assert ("role_missing", "sensa_migrator") in checks(ac.evaluate(facts, CONFIG))


@pytest.mark.parametrize("attribute, check", [
    ("superuser", "app_role_superuser"),
    ("bypassrls", "app_role_bypassrls"),
    ("createrole", "app_role_createrole"),
    ("createdb", "app_role_createdb"),
    ("replication", "app_role_replication"),
])
def test_app_role_attributes(facts, attribute, check):
    facts["roles"][3][attribute] = True
    assert (check, "sensa_app_a") in checks(ac.evaluate(facts, CONFIG))


def test_app_role_create_and_membership_findings(facts):
    priv = facts["app_role_privileges"]["sensa_app_a"]
    priv.update(database_create=True, database_temporary=True, create_schemas=["public", "scratch"],
                member_of_watched=["pg_write_all_data"],
                ddl_like_table_privileges=[dict(schema="public", name="courses", privileges=["TRUNCATE"])])
    assert checks(ac.evaluate(facts, CONFIG)) == [
        ("app_role_can_create", "public"),
        ("app_role_can_create", "scratch"),
        ("app_role_can_create", "sensa"),
        ("app_role_can_create_temporary", "sensa"),
        ("app_role_ddl_privilege", "public.courses"),
        ("app_role_privileged_membership", "sensa_app_a"),
    ]
    allowed = ac.AccessConfig(app_roles=["sensa_app", "sensa_app_a"], allow_temporary=True)
    assert "app_role_can_create_temporary" not in [v["check"] for v in ac.evaluate(facts, allowed)]


def test_member_of_owner_is_reported_once_not_per_table(facts):
    priv = facts["app_role_privileges"]["sensa_app_a"]
    priv.update(member_of_watched=["sensa_migrator"],
                ddl_like_table_privileges=[dict(schema="public", name=t, privileges=["TRIGGER"]) for t in ("a", "b")])
    assert checks(ac.evaluate(facts, CONFIG)) == [("app_role_member_of_owner", "sensa_app_a")]


def test_missing_app_role(facts):
    config = ac.AccessConfig(app_roles=["sensa_app", "sensa_app_a", "sensa_app_b"])
    assert checks(ac.evaluate(facts, config)) == [("role_missing", "sensa_app_b")]


def test_evaluate_does_not_modify_facts(facts):
    before = copy.deepcopy(facts)
    ac.evaluate(facts, CONFIG)
    assert facts == before


def test_summary_is_bounded():
    many = [ac.violation("rls_not_forced", "table", "public.t%d" % i, "m%d" % i) for i in range(25)]
    text = ac.summarize(many, limit=3)
    assert text.startswith("25 access-model violation(s): m0; m1; m2; ... and 22 more")


@pytest.mark.parametrize("name, types, expected", [
    ("f", "", "f()"),
    ("set_current_user_id", "uuid, boolean", "set_current_user_id(uuid:boolean)"),
    ("find", "vector, integer, double precision", "find(vector:integer:double precision)"),
])
def test_privs_signature(name, types, expected):
    assert ac.privs_signature(name, types) == expected


def test_config_defaults():
    config = ac.AccessConfig.from_params({})
    assert config.schemas == ["public"]
    assert config.protected_tables == list(ac.DEFAULT_PROTECTED_TABLES)
    assert config.migrator_role == "sensa_migrator"
    assert not config.allow_temporary and not config.migrator_may_bypass_rls


def test_rls_summary(facts):
    assert ac.rls_summary(ac.protected_table_status(facts, CONFIG)) == "enabled and forced on 5/5 protected tables"
    facts["relations"][1]["rls_forced"] = False
    assert ac.rls_summary(ac.protected_table_status(facts, CONFIG)) == (
        "enabled and forced on 4/5 protected tables; not on public.courses")


# The database's own list (public.sensa_user_data_tables(), issue 12) and the checks built on it.

def listed(name, privileges=("SELECT", "INSERT", "UPDATE", "DELETE"), ownership="learner"):
    return dict(schema="public", name=name, app_privileges=list(privileges), ownership=ownership)


def test_the_databases_list_is_protected_without_configuration(facts):
    facts["user_data_tables"] = [listed("users", ("SELECT", "UPDATE"), "self"), listed("courses")]
    config = ac.AccessConfig(app_roles=["sensa_app", "sensa_app_a"])
    assert [s["table"] for s in ac.protected_table_status(facts, config)] == ["public.users", "public.courses"]
    assert checks(ac.evaluate(facts, config)) == [("rls_not_enabled", "public.users"), ("rls_not_forced", "public.users")]
    # Extras are added once, whether plain or qualified.
    config = ac.AccessConfig(app_roles=[], protected_tables=["courses", "user_progress"])
    assert [s["table"] for s in ac.protected_table_status(facts, config)] == [
        "public.users", "public.courses", "public.user_progress"]


def test_a_missing_list_is_a_violation_when_required(facts):
    config = ac.AccessConfig(app_roles=[], protected_tables=[], require_user_data_function=True)
    assert checks(ac.evaluate(facts, config)) == [("user_data_list_missing", "public.sensa_user_data_tables")]
    facts["user_data_tables"] = []
    assert ac.evaluate(facts, config) == []


def test_a_table_the_application_reaches_without_forced_rls_is_named(facts):
    facts["relations"].append(table("later_notes", enabled=True, forced=False))
    facts["relations"].append(dict(table("leaky_view", kind="view"), security_invoker=False))
    facts["relations"].append(dict(table("good_view", kind="view"), security_invoker=True))
    facts["relations"].append(table("migrations_log", enabled=False, forced=False))
    facts["app_role_privileges"]["sensa_app_a"]["table_privileges"] = [
        dict(schema="public", name=n, privileges=["SELECT"]) for n in ("later_notes", "leaky_view", "good_view",
                                                                        "courses", "migrations_log")]
    config = ac.AccessConfig(app_roles=["sensa_app", "sensa_app_a"], protected_tables=FIVE,
                             exempt_relations=["migrations_log"])
    assert checks(ac.evaluate(facts, config)) == [
        ("app_reachable_view_not_invoker", "public.leaky_view"),
        ("app_reachable_without_rls", "public.later_notes"),
    ]


def test_privileges_beyond_the_list_are_named(facts):
    facts["user_data_tables"] = [listed(t) for t in FIVE] + [listed("users", ("SELECT", "UPDATE"), "self")]
    facts["relations"] = [r for r in facts["relations"] if r["name"] != "users"] + [table("users")]
    facts["app_role_privileges"]["sensa_app"]["table_privileges"] = [
        dict(schema="public", name="users", privileges=["DELETE", "SELECT", "UPDATE"])]
    found = ac.evaluate(facts, ac.AccessConfig(app_roles=["sensa_app"]))
    assert checks(found) == [("app_privilege_not_listed", "public.users")]
    assert "REVOKE DELETE ON public.users FROM sensa_app" in found[0]["message"]


def test_maintenance_databases_open_to_public(facts):
    facts["other_databases"] = [
        dict(name="postgres", owner="postgres", public_connect=True, public_temporary=True, changeable=True),
        dict(name="template1", owner="rdsadmin", public_connect=True, public_temporary=False, changeable=False),
        dict(name="closed", owner="postgres", public_connect=False, public_temporary=False, changeable=True),
    ]
    config = ac.AccessConfig(app_roles=[], protected_tables=FIVE, connect_only_app_database=True)
    assert checks(ac.evaluate(facts, config)) == [("app_can_connect_elsewhere", "postgres")]
    assert ac.unchangeable_open_databases(facts) == ["template1"]
    assert ac.evaluate(facts, ac.AccessConfig(app_roles=[], protected_tables=FIVE)) == []
