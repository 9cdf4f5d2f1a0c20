#!/usr/bin/env bash
# The real-Terraform stage of the test command (scripts/test.sh): tests/terraform with the
# Terraform CLI and the hashicorp/aws provider from a filesystem mirror, against moto.
#
#   exit 0  ran and passed      exit 3  could not run here (the reason is printed)
#   other   ran and failed
#
# The CLI suite (plans, apply, destroy of both roots) and the role's end-to-end suite run
# as two pytest processes side by side: most of their time is the provider waiting on
# moto (RDS and S3 waiters), not CPU. SENSA_PG_ENGINE picks the PostgreSQL engine of the
# end-to-end suite's stand-in database.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"

line=$(PYTHONPATH=tests python -m support.terraform_cli)
probe=$?
echo "$line"
[[ $probe -eq 0 ]] || exit 3

# Own temporary directories: pytest prunes old ones under the shared default base, which
# another test run on the same machine could do while these (long) suites use theirs.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SENSA_TF_REPORT=$work/report
touch "$SENSA_TF_REPORT"
pytest -q -p no:cacheprovider --basetemp="$work/cli" tests/terraform/test_real_terraform.py > >(sed 's/^/[cli] /') 2>&1 &
cli=$!
pytest -q -p no:cacheprovider --basetemp="$work/role" tests/terraform/test_role_end_to_end.py 2>&1 | sed 's/^/[role] /'
role=${PIPESTATUS[0]}
wait "$cli"
cli_rc=$?
echo "$line (PostgreSQL engine of the role suite: ${SENSA_PG_ENGINE:-embedded})"
sed 's/^/real Terraform: /' "$SENSA_TF_REPORT"
echo "real Terraform: CLI suite exit $cli_rc, role suite exit $role"
[[ $cli_rc -eq 0 && $role -eq 0 ]]
