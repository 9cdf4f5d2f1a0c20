#!/usr/bin/env python
"""A terraform CLI STAND-IN for tests. It is not Terraform and creates nothing.

No terraform or tofu binary can be obtained on these machines, so the provisioning role
is tested against this small program. It implements exactly the CLI calls that
community.general.terraform (and roles/terraform_stack's init task) make:

    version -json | init | workspace list/show/new/select/delete | validate
    plan [-destroy] -detailed-exitcode -out FILE | show -json FILE | apply FILE
    destroy -auto-approve | output -json

and behaves like Terraform where the role depends on it: plan exit codes 0/1/2, a
second plan after an apply reports no changes, outputs (one of them sensitive) appear
once something was applied, and `init` with TF_WORKSPACE naming a workspace that does
not exist fails when other workspaces exist, as it does on the S3 backend.

Environment:
    SENSA_TF_STANDIN_DIR       (required) directory for the stand-in's "remote state"
    SENSA_TF_STANDIN_LOG       JSON-lines file: one record per invocation (argv, cwd, env)
    SENSA_TF_STANDIN_OUTPUTS   JSON file {name: value | {"value":..,"sensitive":..}}
                               returned by `output -json` after an apply
    SENSA_TF_STANDIN_FAIL_PLAN message: `plan` fails with it (exit 1), as Terraform would
"""

import hashlib
import json
import os
import sys

VERSION = "1.9.8"
REQUIRED_BACKEND_KEYS = ("bucket", "key", "region")
RECORDED_ENV = ("TF_WORKSPACE", "TF_DATA_DIR", "TF_IN_AUTOMATION", "TF_INPUT", "AWS_REGION", "AWS_PROFILE")
FAKE_RESOURCES = (
    "module.keys.aws_kms_key.main",
    "module.network.aws_vpc.main",
    "module.database.aws_db_instance.main",
    "module.database.aws_db_parameter_group.main",
    "module.cache.aws_elasticache_replication_group.main",
    "module.compute.aws_ecs_service.app",
    'module.storage.aws_s3_bucket.main["uploads"]',
)
DEFAULT_OUTPUTS = {
    "database_address": "127.0.0.1",
    "database_port": 5432,
    "database_name": "sensa",
    "database_master_secret_arn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-standin",
    "database_master_username": {"value": "sensa_master", "sensitive": True},
    "application_secret_name": "sensa/development/standin/app-db",
    "database_security_group_id": "sg-0standin0db",
    "service_security_group_id": "sg-0standin0svc",
    "cache_security_group_id": "sg-0standin0cache",
    "cache_endpoint": "master.sensa-standin-cache.example.invalid",
    "aws_region": "eu-west-1",
}


class Failure(Exception):
    pass


def state_path():
    base = os.environ.get("SENSA_TF_STANDIN_DIR")
    if not base:
        raise Failure("terraform stand-in: SENSA_TF_STANDIN_DIR is not set")
    os.makedirs(base, exist_ok=True)
    return os.path.join(base, "state.json")


def load_state():
    path = state_path()
    if os.path.exists(path):
        with open(path) as handle:
            return json.load(handle)
    return {"initialized": False, "backend": {}, "current": "default", "workspaces": {"default": None}}


def save_state(state):
    path = state_path()
    with open(path + ".tmp", "w") as handle:
        json.dump(state, handle, indent=1, sort_keys=True)
    os.replace(path + ".tmp", path)


def current_workspace(state):
    return os.environ.get("TF_WORKSPACE") or state["current"]


def require_init(state):
    if not state["initialized"]:
        raise Failure('Error: Backend initialization required, please run "terraform init"')


def fingerprint(args):
    """Configuration identity: the .tf files of the working directory plus variables."""
    digest = hashlib.sha256()
    for name in sorted(os.listdir(".")):
        if name.endswith(".tf"):
            with open(name, "rb") as handle:
                digest.update(name.encode() + b"\0" + handle.read())
    values = []
    for i, arg in enumerate(args):
        if arg in ("-var", "-var-file") and i + 1 < len(args):
            values.append(arg + " " + args[i + 1])
    for value in sorted(values):
        digest.update(value.encode() + b"\0")
    return digest.hexdigest()


def option_value(args, name):
    if name in args and args.index(name) + 1 < len(args):
        return args[args.index(name) + 1]
    return None


def parse_backend_config(args):
    config = {}
    items = []
    for i, arg in enumerate(args):
        if arg == "-backend-config" and i + 1 < len(args):
            items.append(args[i + 1])
        elif arg.startswith("-backend-config="):
            items.append(arg.split("=", 1)[1])
    for item in items:
        if "=" in item:
            key, value = item.split("=", 1)
            config[key.strip()] = value.strip()
        else:  # a file of key = "value" lines
            with open(item) as handle:
                for line in handle:
                    if "=" in line and not line.lstrip().startswith("#"):
                        key, value = line.split("=", 1)
                        config[key.strip()] = value.strip().strip('"')
    return config


def cmd_version(args, state):
    if "-json" in args:
        print(
            json.dumps({"terraform_version": VERSION, "platform": "linux_amd64", "provider_selections": {}, "terraform_outdated": False, "sensa_standin": True})
        )
    else:
        print("Terraform v%s (sensa.infra stand-in, not Terraform)" % VERSION)
    return 0


def cmd_init(args, state):
    config = parse_backend_config(args)
    if "-reconfigure" in args or not state["initialized"]:
        merged = config
    else:
        merged = dict(state["backend"], **config)
    missing = [key for key in REQUIRED_BACKEND_KEYS if not merged.get(key)]
    if missing:
        raise Failure('Error: Missing required argument: the backend "s3" needs %s (pass -backend-config)' % ", ".join(missing))
    selected = os.environ.get("TF_WORKSPACE")
    # The S3 backend pitfall: init cannot select a workspace that does not exist when
    # there is more than one to choose from.
    if selected and selected not in state["workspaces"] and len(state["workspaces"]) > 1:
        raise Failure('Error: Currently selected workspace "%s" does not exist' % selected)
    state["initialized"] = True
    state["backend"] = merged
    save_state(state)
    print('Initializing the backend...\n\nSuccessfully configured the backend "s3"!\n\nTerraform has been successfully initialized!')
    return 0


def cmd_workspace(args, state):
    require_init(state)
    words = [a for a in args if not a.startswith("-")]
    action = words[0] if words else "show"
    name = words[1] if len(words) > 1 else None
    if action == "list":
        current = current_workspace(state)
        for workspace in sorted(state["workspaces"]):
            print(("* " if workspace == current else "  ") + workspace)
        return 0
    if action == "show":
        print(current_workspace(state))
        return 0
    if action == "new":
        if name in state["workspaces"]:
            raise Failure('Workspace "%s" already exists' % name)
        state["workspaces"][name] = None
        state["current"] = name
        save_state(state)
        print('Created and switched to workspace "%s"!' % name)
        return 0
    if action == "select":
        if name not in state["workspaces"]:
            raise Failure('Workspace "%s" doesn\'t exist.' % name)
        state["current"] = name
        save_state(state)
        print('Switched to workspace "%s".' % name)
        return 0
    if action == "delete":
        if name == "default" or name not in state["workspaces"]:
            raise Failure('Workspace "%s" cannot be deleted.' % name)
        if state["workspaces"][name]:
            raise Failure('Workspace "%s" is not empty.' % name)
        del state["workspaces"][name]
        save_state(state)
        print('Deleted workspace "%s"!' % name)
        return 0
    raise Failure("terraform stand-in: unsupported workspace action %r" % action)


def cmd_validate(args, state):
    require_init(state)
    print("Success! The configuration is valid.")
    return 0


def planned_changes(state, args):
    workspace = current_workspace(state)
    applied = state["workspaces"].get(workspace)
    if "-destroy" in args:
        return [("delete", address) for address in FAKE_RESOURCES] if applied else []
    wanted = fingerprint(args)
    if applied is None:
        return [("create", address) for address in FAKE_RESOURCES]
    if applied != wanted:
        return [("update", FAKE_RESOURCES[2])]
    return []


def cmd_plan(args, state):
    require_init(state)
    message = os.environ.get("SENSA_TF_STANDIN_FAIL_PLAN")
    if message:
        sys.stderr.write("\nError: %s\n\n" % message)
        return 1
    workspace = current_workspace(state)
    if workspace not in state["workspaces"]:
        raise Failure('Error: workspace "%s" does not exist' % workspace)
    changes = planned_changes(state, args)
    plan = {
        "workspace": workspace,
        "destroy": "-destroy" in args,
        "fingerprint": fingerprint(args),
        "base": state["workspaces"].get(workspace),
        "changes": changes,
    }
    out = option_value(args, "-out")
    if out:
        with open(out, "w") as handle:
            json.dump(plan, handle)
    if not changes:
        print("No changes. Your infrastructure matches the configuration.")
        return 0
    counts = {action: sum(1 for a, _address in changes if a == action) for action in ("create", "update", "delete")}
    print("Plan: %(create)d to add, %(update)d to change, %(delete)d to destroy." % counts)
    return 2 if "-detailed-exitcode" in args else 0


def cmd_show(args, state):
    files = [a for a in args if not a.startswith("-")]
    if not files:
        raise Failure("terraform stand-in: show needs a plan file")
    with open(files[-1]) as handle:
        plan = json.load(handle)
    changes = plan["changes"] or [("no-op", address) for address in FAKE_RESOURCES]
    resource_changes = [
        {
            "address": address,
            "change": {
                "actions": [action],
                "before": None if action == "create" else {"id": address},
                "after": None if action == "delete" else {"id": address},
            },
        }
        for action, address in changes
    ]
    print(json.dumps({"format_version": "1.2", "terraform_version": VERSION, "resource_changes": resource_changes}))
    return 0


def cmd_apply(args, state):
    require_init(state)
    files = [a for a in args if not a.startswith("-")]
    if not files:
        raise Failure("terraform stand-in: apply is only implemented for a saved plan file")
    with open(files[-1]) as handle:
        plan = json.load(handle)
    workspace = current_workspace(state)
    if plan["workspace"] != workspace or plan["base"] != state["workspaces"].get(workspace):
        raise Failure("Error: Saved plan is stale")
    counts = {action: sum(1 for a, _address in plan["changes"] if a == action) for action in ("create", "update", "delete")}
    state["workspaces"][workspace] = None if plan["destroy"] else plan["fingerprint"]
    save_state(state)
    print("Apply complete! Resources: %(create)d added, %(update)d changed, %(delete)d destroyed." % counts)
    return 0


def cmd_destroy(args, state):
    require_init(state)
    workspace = current_workspace(state)
    destroyed = len(FAKE_RESOURCES) if state["workspaces"].get(workspace) else 0
    state["workspaces"][workspace] = None
    save_state(state)
    print("Destroy complete! Resources: %d destroyed." % destroyed)
    return 0


def cmd_output(args, state):
    require_init(state)
    if not state["workspaces"].get(current_workspace(state)):
        print("{}")
        return 0
    outputs = DEFAULT_OUTPUTS
    path = os.environ.get("SENSA_TF_STANDIN_OUTPUTS")
    if path:
        with open(path) as handle:
            outputs = json.load(handle)
    rendered = {}
    for name, value in outputs.items():
        if not (isinstance(value, dict) and "value" in value):
            value = {"value": value, "sensitive": False}
        kind = "number" if isinstance(value["value"], (int, float)) else "string"
        rendered[name] = {"sensitive": bool(value.get("sensitive")), "type": kind, "value": value["value"]}
    print(json.dumps(rendered))
    return 0


COMMANDS = {
    "version": cmd_version,
    "init": cmd_init,
    "workspace": cmd_workspace,
    "validate": cmd_validate,
    "plan": cmd_plan,
    "show": cmd_show,
    "apply": cmd_apply,
    "destroy": cmd_destroy,
    "output": cmd_output,
}


def record(argv, rc):
    path = os.environ.get("SENSA_TF_STANDIN_LOG")
    if not path:
        return
    entry = {"argv": argv, "cwd": os.getcwd(), "rc": rc, "env": {name: os.environ[name] for name in RECORDED_ENV if name in os.environ}}
    with open(path, "a") as handle:
        handle.write(json.dumps(entry) + "\n")


def main(argv):
    if not argv or argv[0] not in COMMANDS:
        sys.stderr.write("terraform stand-in: unsupported command %r\n" % (argv[:1],))
        record(argv, 127)
        return 127
    try:
        rc = COMMANDS[argv[0]](argv[1:], load_state())
    except Failure as exc:
        sys.stderr.write("%s\n" % exc)
        rc = 1
    record(argv, rc)
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
