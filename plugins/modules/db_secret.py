#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Sensa Learn platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: db_secret
short_description: Read and stage database credential secrets (AWS Secrets Manager or a local file)
version_added: 1.0.0
description:
  - Manages a database credential secret with the version and staging-label model of AWS Secrets
    Manager (C(AWSCURRENT), C(AWSPENDING), C(AWSPREVIOUS)), so a rotation can be resumed after a crash.
  - Two backends behave alike. V(secretsmanager) talks to AWS Secrets Manager with boto3.
    V(file) keeps the same versions and labels in a JSON file (mode 0600, atomic replace, advisory lock),
    for inventories without a cloud.
  - The secret value is a JSON object in the format of Secrets Manager's PostgreSQL rotation templates
    (C(engine), C(host), C(port), C(dbname), C(username), C(password)).
  - Results never contain the C(password) field unless O(return_secret=true), which the module accepts only
    on a task with C(no_log) set.
  - Runs on the host that executes it; for the Ansible control node use C(delegate_to) or a local connection.
author:
  - Sensa Learn platform team (@sensa-learn)
options:
  operation:
    description:
      - V(status) describes the versions and labels (never a value).
      - V(get) reads the version labelled O(stage) (or O(version_id)); the public fields come back in RV(fields),
        the whole value in RV(secret) only with O(return_secret=true).
      - V(ensure_current) creates the secret with O(value) as C(AWSCURRENT) when it has no current version
        (bootstrap); leaves an existing secret alone.
      - V(put_pending) stores O(value) as a new C(AWSPENDING) version, as the C(createSecret) step of a Secrets
        Manager rotation does. An identical pending value is left alone; a different one is refused unless
        O(overwrite_pending=true).
      - V(promote) moves C(AWSCURRENT) to O(version_id) (default the C(AWSPENDING) version); the old current
        version becomes C(AWSPREVIOUS), and C(AWSPENDING) is removed from the promoted version.
      - V(discard_pending) removes the C(AWSPENDING) label (abandons a rotation that has not been promoted).
    type: str
    choices: [ status, get, ensure_current, put_pending, promote, discard_pending ]
    default: status
  backend:
    description:
      - Where the secret lives.
    type: str
    choices: [ file, secretsmanager ]
    required: true
  path:
    description:
      - Path of the JSON file. Required with O(backend=file). Its directory is created with mode 0700.
    type: path
  secret_id:
    description:
      - Name or ARN of the secret. Required with O(backend=secretsmanager); with O(backend=file) only recorded in the file.
    type: str
  stage:
    description:
      - Staging label to read with O(operation=get).
    type: str
    choices: [ AWSCURRENT, AWSPENDING, AWSPREVIOUS ]
    default: AWSCURRENT
  version_id:
    description:
      - Version to read (O(operation=get)) or to promote (O(operation=promote)).
    type: str
  value:
    description:
      - The public fields of the secret value (a dictionary with C(engine), C(host), C(port), C(dbname), C(username))
        for O(operation=ensure_current) and O(operation=put_pending).
      - The password is not part of it; give O(password) or set O(generate_password=true).
    type: dict
  password:
    description:
      - The password to store with O(value). Mutually exclusive with O(generate_password).
    type: str
  generate_password:
    description:
      - Generate the C(password) field with Python's C(secrets) module, on the host running the module, so the
        new password never passes through a variable, a file or a command line before it is stored.
    type: bool
    default: false
  password_length:
    description:
      - Length of a generated password (at least 16).
    type: int
    default: 32
  password_alphabet:
    description:
      - Characters of a generated password. Only letters, digits and C(-._~) (RFC 3986 unreserved) are
        accepted, so the password never breaks a C(postgresql://) URI or a libpq connection string.
    type: str
    default: abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~
  overwrite_pending:
    description:
      - With O(operation=put_pending), replace a different pending version instead of failing.
    type: bool
    default: false
  return_secret:
    description:
      - Return the whole value, password included, in RV(secret) (O(operation=get)).
      - The module fails unless the task has C(no_log) set, so the password cannot reach the output or logs.
    type: bool
    default: false
  kms_key_id:
    description:
      - KMS key for a secret created by O(operation=ensure_current) (Secrets Manager's default key otherwise).
    type: str
  description:
    description:
      - Description of a secret created by O(operation=ensure_current).
    type: str
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  check_mode:
    support: full
    description: Reports what would change and writes nothing.
  diff_mode:
    support: none
    description: Secrets and verifiers are never shown as a diff.
notes:
  - Staging labels move exactly as in a Secrets Manager rotation (C(PutSecretValue) with C(VersionStages=[AWSPENDING]),
    then C(UpdateSecretVersionStage) with C(MoveToVersionId)/C(RemoveFromVersionId)); a rotation is in progress
    when C(AWSPENDING) is on a version that is not C(AWSCURRENT).
  - The file backend drops versions that carry no label; Secrets Manager keeps them as deprecated versions for a while.
  - The AWS options (O(region), O(profile), O(endpoint_url), credentials, O(validate_certs), O(aws_ca_bundle), ...)
    are amazon.aws's and apply to O(backend=secretsmanager) only; O(backend=file) needs neither boto3 nor AWS.
requirements:
  - boto3 (O(backend=secretsmanager) only)
seealso:
  - module: sensa.infra.pg_scram_password
  - name: Rotation guide
    description: docs/rotation.md in this collection.
    link: https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_how.html
"""

EXAMPLES = r"""
- name: Where does the rotation stand?
  sensa.infra.db_secret:
    backend: secretsmanager
    secret_id: sensa/dev/app
    region: eu-west-1
  register: app_secret

- name: Stage a new password for the other user (generated by the module)
  sensa.infra.db_secret:
    backend: file
    path: "{{ playbook_dir }}/../.local/secrets/local/app.json"
    operation: put_pending
    value:
      engine: postgres
      host: 127.0.0.1
      port: 5432
      dbname: sensa
      username: sensa_app_b
    generate_password: true
  no_log: true

- name: Read the pending secret for the next task
  sensa.infra.db_secret:
    backend: file
    path: "{{ playbook_dir }}/../.local/secrets/local/app.json"
    operation: get
    stage: AWSPENDING
    return_secret: true
  register: pending
  no_log: true

- name: Promote it
  sensa.infra.db_secret:
    backend: file
    path: "{{ playbook_dir }}/../.local/secrets/local/app.json"
    operation: promote
"""

RETURN = r"""
status:
  description: Versions and labels of the secret after the operation (in check mode, before it). Never values.
  returned: always
  type: dict
  contains:
    exists:
      description: Whether the secret exists.
      type: bool
    location:
      description: Which file or secret this is.
      type: str
    versions:
      description: Labelled versions, oldest first, each with C(version_id), C(stages) and C(created).
      type: list
      elements: dict
    current_version_id:
      description: Version labelled C(AWSCURRENT).
      type: str
    pending_version_id:
      description: Version labelled C(AWSPENDING).
      type: str
    previous_version_id:
      description: Version labelled C(AWSPREVIOUS).
      type: str
    current_created:
      description: When the current version was created (ISO 8601, UTC).
      type: str
    rotation_in_progress:
      description: C(AWSPENDING) is on a version that is not C(AWSCURRENT).
      type: bool
  sample:
    exists: true
    current_version_id: 9c1f0c2e-3d0a-4c7e-9d5e-0f6a1b2c3d4e
    pending_version_id: null
    rotation_in_progress: false
version_id:
  description: The version read, created or promoted (null when none, or in check mode for a new version).
  returned: always
  type: str
fields:
  description: The value read or written without its C(password) field (safe to print).
  returned: when O(operation) is V(get), V(ensure_current) or V(put_pending)
  type: dict
  sample: {engine: postgres, host: db.example.internal, port: 5432, dbname: sensa, username: sensa_app_b}
found:
  description: With O(operation=get), whether the requested stage or version exists.
  returned: when O(operation=get)
  type: bool
secret:
  description: The whole value, password included. Only with O(return_secret=true) on a C(no_log) task.
  returned: when O(operation=get) and O(return_secret=true) and found
  type: dict
"""

from ansible.module_utils.basic import missing_required_lib
from ansible_collections.amazon.aws.plugins.module_utils.botocore import HAS_BOTO3
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.sensa.infra.plugins.module_utils.secret_store import (
    STAGES,
    URI_SAFE_ALPHABET,
    FileSecretStore,
    SecretsManagerStore,
    SecretStoreError,
    generate_password,
    public_fields,
)


def open_store(module):
    params = module.params
    if params["backend"] == "file":
        return FileSecretStore(params["path"], name=params["secret_id"])
    if not HAS_BOTO3:
        module.fail_json(msg=missing_required_lib("boto3 and botocore", reason="for backend=secretsmanager"))
    from botocore.config import Config

    # amazon.aws's client: its options (profile, region, endpoint_url, validate_certs, aws_ca_bundle,
    # credentials), its user agent, and botocore's standard retries (jittered, throttling-aware) on every
    # call; an aws_config of the task wins over these.
    client = module.client("secretsmanager", config=Config(retries=dict(mode="standard", max_attempts=8)))
    return SecretsManagerStore(params["secret_id"], kms_key_id=params["kms_key_id"],
                               description=params["description"], client=client)


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            operation=dict(type="str", default="status",
                           choices=["status", "get", "ensure_current", "put_pending", "promote", "discard_pending"]),
            backend=dict(type="str", required=True, choices=["file", "secretsmanager"]),
            path=dict(type="path"),
            secret_id=dict(type="str"),
            stage=dict(type="str", default="AWSCURRENT", choices=list(STAGES)),
            version_id=dict(type="str"),
            value=dict(type="dict"),
            password=dict(type="str", no_log=True),
            generate_password=dict(type="bool", default=False, no_log=False),
            password_length=dict(type="int", default=32, no_log=False),
            password_alphabet=dict(type="str", default=URI_SAFE_ALPHABET, no_log=False),
            overwrite_pending=dict(type="bool", default=False),
            return_secret=dict(type="bool", default=False, no_log=False),
            kms_key_id=dict(type="str"),
            description=dict(type="str"),
        ),
        required_if=[
            ("backend", "file", ["path"]),
            ("backend", "secretsmanager", ["secret_id"]),
            ("operation", "ensure_current", ["value"]),
            ("operation", "put_pending", ["value"]),
        ],
        supports_check_mode=True,
        check_boto3=False,  # the file backend needs no boto3; open_store() checks it for Secrets Manager
    )
    params = module.params
    operation = params["operation"]

    if params["return_secret"] and not module.no_log:
        module.fail_json(msg="return_secret=true returns the password; set no_log: true on this task")

    try:
        store = open_store(module)

        result = dict(changed=False, version_id=None)
        value = None
        if operation in ("ensure_current", "put_pending"):
            value = dict(params["value"])
            if "password" in value:
                module.fail_json(msg="value holds only public fields; pass the password in the password option (no_log)")
            if params["generate_password"] and params["password"]:
                module.fail_json(msg="give either password or generate_password: true, not both")
            if params["generate_password"]:
                value["password"] = generate_password(params["password_length"], params["password_alphabet"])
            elif params["password"]:
                value["password"] = params["password"]
            else:
                module.fail_json(msg="give a password or set generate_password: true")

        if operation == "status":
            pass
        elif operation == "get":
            version_id, found_value = store.get(stage=params["stage"], version_id=params["version_id"])
            result.update(version_id=version_id, found=found_value is not None, fields=public_fields(found_value))
            if found_value is not None and params["return_secret"]:
                result["secret"] = found_value
        elif operation == "ensure_current":
            if not store.status()["current_version_id"]:
                result["fields"] = public_fields(value)
            else:
                result["fields"] = public_fields(store.get()[1])
            result["changed"], result["version_id"] = store.ensure_current(value, check_mode=module.check_mode)
        elif operation == "put_pending":
            if params["generate_password"]:
                # A generated password never equals the pending one: reuse a pending version whose public
                # fields match instead of replacing it, so a re-run resumes the same rotation.
                status = store.status()
                if status["rotation_in_progress"]:
                    pending = store.get(version_id=status["pending_version_id"])[1]
                    if public_fields(pending) == public_fields(value):
                        value = pending
            result["changed"], result["version_id"] = store.put_pending(
                value, overwrite=params["overwrite_pending"], check_mode=module.check_mode)
            result["fields"] = public_fields(value)
        elif operation == "promote":
            result["changed"], result["version_id"] = store.promote(params["version_id"], check_mode=module.check_mode)
        elif operation == "discard_pending":
            result["changed"], result["version_id"] = store.discard_pending(check_mode=module.check_mode)
        result["status"] = store.status()
    except SecretStoreError as exc:
        if exc.aws_error is not None:
            module.fail_json_aws(exc.aws_error, msg=exc.doing)
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
