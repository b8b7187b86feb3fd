#!/usr/bin/env bash
# Checks docs/openapi.yaml against the running server: schemathesis sends generated requests
# for every documented operation and checks status codes, content types, headers and bodies
# against the document. Runs on a throw-away SQLite database with a development HS256 key.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../../.." && pwd)
cd "$root"

venv=${OPENAPI_VENV:-$root/target/openapi-venv}
if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "schemathesis==4.32.5"
fi
cargo build -q --bin webwork-scim

work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
secret=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
base="http://127.0.0.1:$port"
DATABASE_URL="sqlite://$work/check.db" BIND_ADDR="127.0.0.1:$port" RUST_LOG=warn \
  JWT_KEYS="[{\"kid\":\"check\",\"alg\":\"HS256\",\"secret\":\"$secret\"}]" JWT_ALLOW_HS256=true \
  "$root/target/debug/webwork-scim" serve >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.1; done

jwt=$(python3 "$here/mint_jwt.py" "$secret" platform)
# A workspace, so that the generated requests also reach real data.
curl -fs -X POST "$base/api/v1/workspaces" -H "Authorization: Bearer $jwt" \
  -H "Content-Type: application/json" -d '{"name":"OpenAPI Check","plan":"premium","sso_enabled":true}' >/dev/null

"$venv/bin/schemathesis" --config-file "$here/schemathesis.toml" run docs/openapi.yaml --url "$base" \
  --header "Authorization: Bearer $jwt" \
  --max-examples "${OPENAPI_MAX_EXAMPLES:-25}" \
  --phases examples,coverage,fuzzing \
  --suppress-health-check all \
  --warnings off
