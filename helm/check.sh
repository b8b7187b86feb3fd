#!/usr/bin/env bash
# Lints, renders and validates the webwork-scim chart offline: no helm binary, no cluster.
# Needs python3 with pip; installs helm-python-sdk (Helm's Go SDK, embedded) and
# kubernetes-validate (the Kubernetes JSON schemas) into that Python when missing.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${PYTHON:-python3}"

missing=()
"$python" -c 'import helm_python' 2>/dev/null || missing+=(helm-python-sdk)
"$python" -c 'import kubernetes_validate' 2>/dev/null || missing+=(kubernetes-validate)
if ((${#missing[@]})); then
  echo "installing ${missing[*]}"
  "$python" -m pip install --quiet --disable-pip-version-check "${missing[@]}"
fi

# The values files are plain YAML (the templates are not): lint them when yamllint is at hand.
if command -v yamllint >/dev/null 2>&1; then
  yamllint -c "$here/.yamllint" "$here/webwork-scim/Chart.yaml" "$here/webwork-scim/values.yaml" "$here"/ci/*.yaml
  echo "yamllint: Chart.yaml and values files clean"
fi

exec "$python" "$here/check.py"
