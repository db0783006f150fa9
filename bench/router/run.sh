#!/usr/bin/env bash
# Runs waddle-bench-router against a private PostgreSQL + Redis (scripts/dev-cluster) that is
# started in a temporary directory and stopped and removed afterwards. Builds nothing.
#
#   bench/router/run.sh [--bin PATH] [--cluster DIR] [--] [waddle-bench-router options]
#
# e.g. --json, --smoke, --connections 32 --duration 10. See bench/run-with-cluster.sh for --bin and --cluster.
exec "$(dirname "$0")/../run-with-cluster.sh" router "$@"
