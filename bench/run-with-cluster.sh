#!/usr/bin/env bash
# Runs a bench binary (bench/<name>/waddle-bench-<name>) against a private PostgreSQL + Redis
# (scripts/dev-cluster) that it starts in a temporary directory and stops and removes afterwards.
# Builds nothing.
#
#   bench/run-with-cluster.sh NAME [--bin PATH] [--cluster DIR] [--] [bench options]
#
# bench/<name>/run.sh calls it with its NAME (router, overlay).
#
# --bin      the bench binary (default: $WADDLE_BENCH_BIN, else build-bench/ then build/ of
#            this checkout); configure with -DWADDLE_BENCH=ON and build target waddle-bench-NAME
# --cluster  an existing dev-cluster directory to use (started if needed, left running)
# Everything else goes to the binary, e.g. --json or --smoke.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 1 ] || { echo "usage: bench/run-with-cluster.sh NAME [options]" >&2; exit 2; }
name=$1
shift
target="waddle-bench-$name"
bin=${WADDLE_BENCH_BIN:-}
cluster=
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin=$2; shift 2 ;;
    --cluster) cluster=$2; shift 2 ;;
    --) shift; args+=("$@"); break ;;
    *) args+=("$1"); shift ;;
  esac
done
if [ -z "$bin" ]; then
  for candidate in "$repo/build-bench" "$repo/build"; do
    if [ -x "$candidate/bench/$name/$target" ]; then
      bin="$candidate/bench/$name/$target"
      break
    fi
  done
fi
if [ -z "$bin" ] || [ ! -x "$bin" ]; then
  echo "run.sh: no $target binary: configure with -DWADDLE_BENCH=ON, build the" \
    "target $target, or pass --bin PATH" >&2
  exit 2
fi

own_cluster=
if [ -z "$cluster" ]; then
  cluster=$(mktemp -d /tmp/waddle-bench-cluster.XXXXXX)
  # PostgreSQL runs as `postgres` under root: let it reach its data inside this directory.
  chmod 0755 "$cluster"
  own_cluster=1
fi
cleanup() {
  if [ -n "$own_cluster" ]; then
    "$repo/scripts/dev-cluster" stop "$cluster" >/dev/null 2>&1 || true
    rm -rf "$cluster"
  fi
}
trap cleanup EXIT
"$repo/scripts/dev-cluster" start "$cluster" >&2
eval "$("$repo/scripts/dev-cluster" env "$cluster")"
"$bin" "${args[@]}"
