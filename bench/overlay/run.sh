#!/usr/bin/env bash
# Runs waddle-bench-overlay against a private PostgreSQL + Redis (scripts/dev-cluster) that is
# started in a temporary directory and stopped and removed afterwards. Builds nothing.
#
#   bench/overlay/run.sh [--bin PATH] [--cluster DIR] [--] [waddle-bench-overlay options]
#
# e.g. --json, --smoke, --clients 2000 --publishes 100. See bench/run-with-cluster.sh for --bin and --cluster.
exec "$(dirname "$0")/../run-with-cluster.sh" overlay "$@"
