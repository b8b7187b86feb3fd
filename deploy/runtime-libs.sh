#!/usr/bin/env bash
# Stages every shared library a binary loads that the runtime image lacks.
#
#   runtime-libs.sh BINARY BASE_ROOT DEST_ROOT
#
# BASE_ROOT is the runtime image's file system (copied into the build stage), DEST_ROOT a tree that
# is later copied over the runtime image's root. The runtime image has neither a shell nor a
# package manager, so libpq and what it pulls in (Kerberos, LDAP, GnuTLS, ...) must arrive as
# plain files; libraries the runtime image already has (glibc, libgcc, OpenSSL) are left out so
# that its own, security-updated copies are the ones loaded.
set -euo pipefail

if [ "$#" -ne 3 ]; then
  echo "usage: $0 BINARY BASE_ROOT DEST_ROOT" >&2
  exit 2
fi
binary=$1
base=$2
dest=$3

# The loader searches /usr/lib/<multiarch> without an ld.so.cache, which the runtime image lacks.
libdir="$dest/usr/lib/$(gcc -print-multiarch)"
mkdir -p "$libdir"

listing=$(ldd "$binary")
if grep -q 'not found' <<<"$listing"; then
  echo "$binary has unresolved libraries:" >&2
  grep 'not found' <<<"$listing" >&2
  exit 1
fi

# Lines look like "libpq.so.5 => /lib/x86_64-linux-gnu/libpq.so.5 (0x...)"; the vDSO and the
# loader itself have no "=>" and are skipped (the runtime image has its loader).
copied=0
while read -r soname path; do
  if [ -n "$(find "$base" -path '*/lib*' -name "$soname" -print -quit)" ]; then
    echo "runtime image has $soname"
    continue
  fi
  cp -L "$path" "$libdir/$soname"
  echo "staged $soname from $path"
  copied=$((copied + 1))
done < <(awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 }' <<<"$listing")

echo "$copied libraries staged in $libdir"
