#!/usr/bin/env bash
# The docker-compose topology without docker: a local redis-server on its own port, two assistant processes on
# their own ports sharing it, and a round-robin proxy in front (scripts/round-robin-proxy.mjs).
#   scripts/cluster-local.sh            # then open the URL it prints; Ctrl-C stops everything
# Ports: PROXY_PORT (8080), APP1_PORT (3001), APP2_PORT (3002), REDIS_PORT (6390); 0 picks a free one.
# CLUSTER_ENTRY=dist runs the compiled server (npm run build first); default: src/main.ts through tsx.
# CLUSTER_NODE_ARGS adds node options to both instances (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
# CLUSTER_PROXY=false starts no proxy (a load client that spreads over the instances itself); the URL printed is instance 1's.
# Other variables (LOG_LEVEL, DATA_KEY, KNOWLEDGE_DIR, …) pass through to both instances.
set -euo pipefail
cd "$(dirname "$0")/.."

free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
port_or_free() { if [ "${1:-}" = "0" ]; then free_port; else echo "$1"; fi; }
PROXY_PORT=$(port_or_free "${PROXY_PORT:-8080}")
APP1_PORT=$(port_or_free "${APP1_PORT:-3001}")
APP2_PORT=$(port_or_free "${APP2_PORT:-3002}")
REDIS_PORT=$(port_or_free "${REDIS_PORT:-6390}")
RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/wsa-cluster.XXXXXX")
# Both instances must decrypt each other's records: one data key for the cluster.
export DATA_KEY="${DATA_KEY:-$(node -e "console.log(require('crypto').randomBytes(32).toString('base64'))")}"
export REDIS_PREFIX="${REDIS_PREFIX:-wsa-local}"
if [ "${CLUSTER_ENTRY:-src}" = "dist" ]; then ENTRY=(dist/main.js); else ENTRY=(--import tsx src/main.ts); fi
read -ra NODE_ARGS <<< "${CLUSTER_NODE_ARGS:-}"

WITH_PROXY=$([ "${CLUSTER_PROXY:-true}" = "false" ] && echo false || echo true)

infra=() # Redis, then the proxy
apps=()
cleanup() {
  trap - EXIT INT TERM
  # The instances first (graceful shutdown: in-flight turns finish), then the proxy, then Redis.
  for pid in "${apps[@]}" ; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${apps[@]}" ; do wait "$pid" 2>/dev/null || true; done
  for ((i=${#infra[@]}-1; i>=0; i--)); do kill -TERM "${infra[$i]}" 2>/dev/null || true; wait "${infra[$i]}" 2>/dev/null || true; done
  rm -rf "$RUN_DIR"
  echo "cluster stopped"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

wait_for() { # name, command…
  local name=$1; shift
  for _ in $(seq 1 300); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  echo "cluster: $name did not come up" >&2; exit 1
}
ready() { node -e "fetch('http://127.0.0.1:$1/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"; }

redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$RUN_DIR" --appendonly yes --appendfsync everysec --save '' >"$RUN_DIR/redis.log" 2>&1 &
infra+=($!)
wait_for redis redis-cli -p "$REDIS_PORT" ping

if [ "$WITH_PROXY" = true ]; then
  node scripts/round-robin-proxy.mjs --port "$PROXY_PORT" --upstream "http://127.0.0.1:$APP1_PORT" --upstream "http://127.0.0.1:$APP2_PORT" &
  infra+=($!)
else
  PROXY_PORT=$APP1_PORT
fi

for i in 1 2; do
  port_var="APP${i}_PORT"
  mkdir -p "$RUN_DIR/data$i"
  PORT=${!port_var} HOST=127.0.0.1 REDIS_URL="redis://127.0.0.1:$REDIS_PORT" DATA_DIR="$RUN_DIR/data$i" TRUST_PROXY=127.0.0.1 \
    node ${NODE_ARGS[@]+"${NODE_ARGS[@]}"} "${ENTRY[@]}" > >(sed -u "s/^/[app$i] /") 2>&1 &
  apps+=($!)
done
wait_for "instance 1" ready "$APP1_PORT"
wait_for "instance 2" ready "$APP2_PORT"
echo "cluster ready: http://127.0.0.1:$PROXY_PORT (instances on $APP1_PORT and $APP2_PORT, redis on $REDIS_PORT)"
echo "cluster pids: app1=${apps[0]} app2=${apps[1]} (kill -TERM one to try a rolling restart)"
wait
