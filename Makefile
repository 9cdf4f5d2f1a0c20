# The two README commands; everything else is in scripts/.
.PHONY: local test stop lint bench backup restore

local:  ## set up .venv and run site.yml on inventories/local (embedded PostgreSQL)
	bash scripts/local.sh

test:   ## every quality gate and test suite (what CI runs)
	bash scripts/test.sh

bench:  ## seed + benchmark at s=1 (~20 min on 2 cores); results in bench/results and docs/benchmarks.md
	bash scripts/bootstrap.sh && .venv/bin/python bench/run.py --scale 1

stop:   ## stop the local cluster (data kept)
	bash scripts/bootstrap.sh && .venv/bin/ansible-playbook playbooks/local_stop.yml -i inventories/local

backup: ## logical backup of the local database into .local/backups/local/<UTC time>
	bash scripts/bootstrap.sh && .venv/bin/ansible-playbook playbooks/backup_local.yml -i inventories/local

restore: ## replace the local database with the newest backup (or BACKUP=<dir>); drops its current content
	bash scripts/bootstrap.sh && .venv/bin/ansible-playbook playbooks/restore_local.yml -i inventories/local \
	  $(if $(BACKUP),-e restore_local_backup=$(abspath $(BACKUP)))
