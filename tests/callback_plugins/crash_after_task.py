"""Fault injection from outside the roles: kill ansible-playbook right after a named task.

Not part of the collection (it lives under tests/). The rotation's crash tests use it instead
of hooks inside the production tasks: with

    ANSIBLE_CALLBACK_PLUGINS=tests/callback_plugins ANSIBLE_CALLBACKS_ENABLED=crash_after_task \
    SENSA_CRASH_AFTER_TASK="Step 3 - store a new generated password"

the controller process is killed with SIGKILL as soon as the first task whose name starts with
that text has finished on a host (ok or changed; a skipped task does not count), which is what
a crash, an operator's kill or a lost CI runner does to a rotation between two of its steps.
The task's side effects (the secret store, the server) are whatever the module left; nothing
after it runs, not even the play's always section.
"""

import os
import signal
import sys

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: crash_after_task
type: aggregate
short_description: kill the run right after a named task (tests only)
description: SIGKILLs ansible-playbook after the first task whose name starts with SENSA_CRASH_AFTER_TASK succeeds.
requirements: [enable in ansible.cfg or ANSIBLE_CALLBACKS_ENABLED]
"""

MARKER = "FAULT INJECTED: killed after task"


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "crash_after_task"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.prefix = os.environ.get("SENSA_CRASH_AFTER_TASK", "")

    def v2_runner_on_ok(self, result):
        # get_name() is "<role> : <task name>" for a role's task.
        name = result._task.get_name().split(" : ", 1)[-1]
        if self.prefix and name.startswith(self.prefix):
            sys.stdout.write("%s '%s' (host %s)\n" % (MARKER, name, result._host.get_name()))
            sys.stdout.flush()
            os.kill(os.getpid(), signal.SIGKILL)
