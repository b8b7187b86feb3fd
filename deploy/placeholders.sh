#!/usr/bin/env bash
# Creates an empty source for every target the workspace's manifests name, so that cargo can load
# the workspace from the manifests alone. The image build uses it to compile the dependencies in
# a layer of their own; deploy/check.sh uses it to prove that layer still loads.
set -euo pipefail
for crate in domain tenancy persistence api; do
  mkdir -p "crates/$crate/src"
  touch "crates/$crate/src/lib.rs"
done
echo 'fn main() {}' > crates/api/src/main.rs
mkdir -p crates/api/tests/scim crates/api/benches/scim
touch crates/api/tests/scim/main.rs
echo 'fn main() {}' > crates/api/benches/scim/main.rs
