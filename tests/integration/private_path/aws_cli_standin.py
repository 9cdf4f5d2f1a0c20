#!/usr/bin/env python3
"""STAND-IN for `aws ssm start-session` (this is not the AWS CLI, and no SSM session exists).

AWS's SSM session cannot run on this machine. To prove the rest of the ssm backend for
real (the up-front tool check, the bastion id taken from the Terraform outputs, the region,
the command line db_path builds, the process it supervises and closes), the tests put this
script on PATH as `aws`. It records its arguments, refuses anything but the port-forwarding
document, and carries the forward the way the Session Manager plugin would (a child process
forwarding localhost:<localPortNumber> to <host>:<portNumber>), here with ssh through the
test's bastion namespace. Its options come from SENSA_AWS_STANDIN_* variables.
"""

import json
import os
import signal
import subprocess
import sys


def main(argv):
    with open(os.environ["SENSA_AWS_STANDIN_LOG"], "a") as handle:
        handle.write(json.dumps(argv) + "\n")
    if argv[:2] != ["ssm", "start-session"]:
        sys.stderr.write("aws stand-in: only `ssm start-session` is implemented\n")
        return 252
    options = dict(zip(argv[2::2], argv[3::2]))
    if options.get("--document-name") != "AWS-StartPortForwardingSessionToRemoteHost":
        sys.stderr.write("aws stand-in: only the AWS-StartPortForwardingSessionToRemoteHost document is implemented\n")
        return 252
    if options.get("--target") != os.environ["SENSA_AWS_STANDIN_TARGET"]:
        sys.stderr.write("An error occurred (TargetNotConnected) when calling the StartSession operation: "
                         "%s is not connected.\n" % options.get("--target"))
        return 254
    parameters = dict(item.split("=", 1) for item in options["--parameters"].split(","))
    forward = "127.0.0.1:%s:%s:%s" % (parameters["localPortNumber"], parameters["host"], parameters["portNumber"])
    child = subprocess.Popen(["ssh", "-N", "-L", forward, "-o", "ExitOnForwardFailure=yes", "-o", "BatchMode=yes"]
                             + json.loads(os.environ["SENSA_AWS_STANDIN_SSH"]))
    signal.signal(signal.SIGTERM, lambda *_: child.terminate())
    sys.stdout.write("Starting session with SessionId: standin-0\nWaiting for connections...\n")
    sys.stdout.flush()
    return child.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
