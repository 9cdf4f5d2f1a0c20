"""Run ansible-playbook from tests and read its recap."""

import json
import os
import re
import subprocess
import sys

from .collection import REPO_ROOT, ensure_collection_link

RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


class PlaybookResult:
    def __init__(self, proc):
        self.proc = proc
        self.returncode = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.recap = {
            m.group(1): dict(ok=int(m.group(2)), changed=int(m.group(3)), unreachable=int(m.group(4)), failed=int(m.group(5)))
            for m in RECAP.finditer(proc.stdout)
        }

    @property
    def output(self):
        return self.stdout + self.stderr

    def changed(self, host=None):
        if host:
            return self.recap[host]["changed"]
        return sum(r["changed"] for r in self.recap.values())

    def failed(self):
        return self.returncode != 0

    def __repr__(self):
        return "PlaybookResult(rc=%s, recap=%s)\n%s\n%s" % (self.returncode, self.recap, self.stdout[-6000:], self.stderr[-3000:])


def run_playbook(playbook, inventory=None, extra_vars=None, check=False, diff=False, verbosity=0,
                 env=None, timeout=600, extra_args=()):
    """ansible-playbook with the repo's ansible.cfg; extra_vars go through a JSON file argument."""
    ensure_collection_link()
    bindir = os.path.dirname(sys.executable)
    argv = [os.path.join(bindir, "ansible-playbook"), playbook]
    if inventory:
        argv += ["-i", inventory]
    if extra_vars:
        argv += ["-e", json.dumps(extra_vars)]
    if check:
        argv.append("--check")
    if diff:
        argv.append("--diff")
    if verbosity:
        argv.append("-" + "v" * verbosity)
    argv += list(extra_args)
    run_env = dict(os.environ)
    run_env.update(
        ANSIBLE_CONFIG=os.path.join(REPO_ROOT, "ansible.cfg"),
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_NOCOLOR="1",
        PATH=bindir + os.pathsep + run_env.get("PATH", ""),
    )
    run_env.update(env or {})
    proc = subprocess.run(argv, cwd=REPO_ROOT, capture_output=True, text=True, env=run_env, timeout=timeout, check=False)
    return PlaybookResult(proc)
