"""Count what a playbook run executes: one entry per task result and loop item.

Not part of the collection (it lives under tests/): a measuring aid for issue 15's no-op
site.yml. Enable it with

    ANSIBLE_CALLBACK_PLUGINS=tests/callback_plugins ANSIBLE_CALLBACKS_ENABLED=module_invocations \
    SENSA_INVOCATIONS_FILE=/tmp/counts.json ansible-playbook site.yml -i inventories/local

A module invocation is an executed (not skipped) task or loop item whose action runs a
module on the target; controller-only actions (set_fact, debug, assert, ...) are counted
apart. The JSON file holds the totals, the per-action counts and the per-task wall time.
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: module_invocations
type: aggregate
short_description: count module invocations and task time of a run (tests only)
description: Writes the counts to the file named by SENSA_INVOCATIONS_FILE at the end of the run.
requirements: [enable in ansible.cfg or ANSIBLE_CALLBACKS_ENABLED]
"""

# Actions handled by the controller alone (no module is shipped to or run on the target).
CONTROLLER_ONLY = {
    "set_fact", "debug", "assert", "fail", "meta", "add_host", "group_by", "include_vars",
    "include_tasks", "import_tasks", "include_role", "import_role", "set_stats", "pause",
}


def short_action(action):
    return action.rsplit(".", 1)[-1] if action.startswith("ansible.builtin.") or action.startswith("ansible.legacy.") else action


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "module_invocations"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.started = time.monotonic()
        self.modules = {}
        self.controller = {}
        self.skipped = 0
        self.task_time = {}
        self._task_start = {}

    def _count(self, result):
        action = short_action(result._task.action)
        bucket = self.controller if action in CONTROLLER_ONLY else self.modules
        bucket[action] = bucket.get(action, 0) + 1

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._task_start[task._uuid] = time.monotonic()

    def _finish(self, result):
        task = result._task
        start = self._task_start.get(task._uuid)
        if start is not None:
            name = task.get_name()
            self.task_time[name] = round(self.task_time.get(name, 0.0) + time.monotonic() - start, 3)
            self._task_start[task._uuid] = time.monotonic()

    # A loop task reports each item, then one aggregate result: count the items only.
    def _is_loop_aggregate(self, result):
        return "results" in result._result and result._task.loop is not None

    def v2_runner_on_ok(self, result):
        if not self._is_loop_aggregate(result):
            self._count(result)
        self._finish(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        if not self._is_loop_aggregate(result):
            self._count(result)
        self._finish(result)

    def v2_runner_on_skipped(self, result):
        if not self._is_loop_aggregate(result):
            self.skipped += 1
        self._finish(result)

    def v2_runner_item_on_ok(self, result):
        self._count(result)

    def v2_runner_item_on_failed(self, result):
        self._count(result)

    def v2_runner_item_on_skipped(self, result):
        self.skipped += 1

    def v2_playbook_on_stats(self, stats):
        report = {
            "module_invocations": sum(self.modules.values()),
            "controller_actions": sum(self.controller.values()),
            "skipped": self.skipped,
            "seconds": round(time.monotonic() - self.started, 2),
            "load_average": list(os.getloadavg()),
            "modules": dict(sorted(self.modules.items(), key=lambda kv: -kv[1])),
            "controller": dict(sorted(self.controller.items(), key=lambda kv: -kv[1])),
            "task_seconds": dict(sorted(self.task_time.items(), key=lambda kv: -kv[1])),
        }
        path = os.environ.get("SENSA_INVOCATIONS_FILE")
        if path:
            with open(path, "w", encoding="utf-8") as handle:
                json.dump(report, handle, indent=2)
        self._display.display(
            "module invocations: %(module_invocations)d, controller actions: %(controller_actions)d, "
            "skipped: %(skipped)d, %(seconds).1f s" % report)
