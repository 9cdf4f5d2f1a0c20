#!/usr/bin/env bash
# Second README command: every quality gate and test suite, in order. Each stage prints
# its runner's own closing line; the last line of this script counts the stages.
#
#   ruff -> ansible-lint + yamllint -> ansible-test sanity -> unit tests
#   -> integration tests on each available engine -> real Terraform -> Molecule scenarios
#
# Set SENSA_SKIP_SYSTEM_ENGINE=1 to skip provisioning Debian's PostgreSQL 15 engine.
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/bootstrap.sh || { echo "bootstrap failed"; exit 1; }
export PATH="$PWD/.venv/bin:$PATH"
export ANSIBLE_CONFIG="$PWD/ansible.cfg" PY_COLORS=0 ANSIBLE_NOCOLOR=1 NO_COLOR=1

passed=() failed=() engines_ran=() engines_not=()
stage() {
  local name=$1; shift
  echo; echo "=== stage: $name ==="
  local start=$SECONDS
  "$@"
  local rc=$?
  # pytest exits 5 when it collected nothing: never let that pass silently.
  if [[ $rc -eq 5 && $1 == pytest ]]; then echo "stage $name collected no tests"; fi
  record "$name" "$rc" "$start"
}
record() {  # name, exit code, start time (in $SECONDS)
  if [[ $2 -eq 0 ]]; then passed+=("$1"); else failed+=("$1 (exit $2)"); fi
  echo "=== stage $1: exit $2 in $((SECONDS - $3)) s ==="
}

stage ruff ruff check .
stage ansible-lint ansible-lint
stage yamllint yamllint --strict .
stage changelog antsibull-changelog lint
stage sanity bash scripts/sanity.sh
stage unit pytest -q -p no:cacheprovider tests/unit

# Integration tests on each engine this machine can run.
engines=(embedded)
if [[ ${SENSA_SKIP_SYSTEM_ENGINE:-0} == 1 ]]; then
  engines_not+=("system: skipped by SENSA_SKIP_SYSTEM_ENGINE=1")
else
  bash scripts/install-system-postgres.sh
  case $? in
    0) engines+=(system) ;;
    3) engines_not+=("system: cannot be provisioned on this machine (see the install-system-postgres message above)") ;;
    *) failed+=("install-system-postgres"); engines_not+=("system: provisioning failed") ;;
  esac
fi
# PgBouncer for the local pooler suite (tests/integration/maintenance/test_local_pooler.py),
# which is skipped with "not run, because ..." when it is missing.
not_run=()
bash scripts/install-pgbouncer.sh
case $? in
  0) ;;
  3) not_run+=("local pooler tests: PgBouncer cannot be installed here (see the install-pgbouncer message above)") ;;
  *) failed+=("install-pgbouncer") ;;
esac
# iproute2 + OpenSSH for the private-path suite (tests/integration/private_path): network
# namespaces as root; the suite is skipped with "not run because ..." when they cannot be had.
bash scripts/install-netns-tools.sh
case $? in
  0) ;;
  3) not_run+=("private-path tests: network namespaces cannot be used here (see the install-netns-tools message above)") ;;
  *) failed+=("install-netns-tools") ;;
esac
# Real Terraform (scripts/terraform-stage.sh, tests/terraform): the CLI on PATH and the
# hashicorp/aws provider from a filesystem mirror, against moto. A machine without them
# reports "not run" and why; under CI (CI or SENSA_REQUIRE_TERRAFORM=1) that is a failure.
# It runs beside the integration suites: its time is the provider waiting on moto's API
# (RDS and S3 waiters), not CPU. Its output is printed whole when it ends.
terraform_probe=$(PYTHONPATH=tests python -m support.terraform_cli)
terraform_ok=$?
terraform_pid=""
if [[ $terraform_ok -eq 0 ]]; then
  terraform_log=$(mktemp)
  terraform_start=$SECONDS
  SENSA_PG_ENGINE=${engines[-1]} bash scripts/terraform-stage.sh >"$terraform_log" 2>&1 &
  terraform_pid=$!
  echo; echo "=== stage terraform: started in the background (pid $terraform_pid), beside the integration suites ==="
elif [[ -n ${CI:-} || ${SENSA_REQUIRE_TERRAFORM:-0} == 1 ]]; then
  failed+=("terraform: $terraform_probe")
else
  not_run+=("terraform stage and molecule[provision]: $terraform_probe")
fi

for engine in "${engines[@]}"; do
  SENSA_PG_ENGINE=$engine stage "integration[$engine]" pytest -q -p no:cacheprovider -n 2 tests/integration
  engines_ran+=("$engine")
done

if [[ -n $terraform_pid ]]; then
  echo; echo "=== stage: terraform ==="
  wait "$terraform_pid"
  terraform_rc=$?
  cat "$terraform_log"
  rm -f "$terraform_log"
  record terraform "$terraform_rc" "$terraform_start"
fi

for scenario in molecule/*/; do
  scenario=$(basename "$scenario")
  [[ $scenario == provision && $terraform_ok -ne 0 ]] && continue  # real Terraform: see above
  # A scenario's state (e.g. "prepared") outlives its run; start every run from nothing.
  molecule reset -s "$scenario" >/dev/null 2>&1 || true
  stage "molecule[$scenario]" molecule test -s "$scenario"
done

echo
echo "=== summary ==="
echo "engines that ran the integration suite: ${engines_ran[*]:-none}"
for reason in "${engines_not[@]}"; do echo "engine not run: $reason"; done
echo "terraform: $terraform_probe"
for reason in "${not_run[@]}"; do echo "not run: $reason"; done
for name in "${passed[@]}"; do echo "passed: $name"; done
for name in "${failed[@]}"; do echo "FAILED: $name"; done
echo "stages: ${#passed[@]} passed, ${#failed[@]} failed"
[[ ${#failed[@]} -eq 0 ]]
