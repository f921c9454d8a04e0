#!/usr/bin/env bash
# deploy/runtime-packages.txt against the built binary: every library the
# binary names (NEEDED) must come from a listed package, and every listed
# package must own a library the binary loads (ldd), so the image's runtime
# stage neither misses one nor carries a stale one.
# Usage: runtime_packages_test.sh NETPOL_PROXY RUNTIME_PACKAGES_TXT
set -euo pipefail
binary=$1 list=$2
listed=$(sed 's/#.*//' "$list" | tr -s ' \t' '\n' | sed '/^$/d' | sort -u)
owner() { # the package owning a library path, merged /usr or not
  local path=$1 real
  real=$(realpath "$path")
  for p in "$path" "$real" "/usr$path" "/usr$real" "${path#/usr}" "${real#/usr}"; do
    dpkg -S "$p" 2>/dev/null | sed -n '1s/:.*//p' | grep . && return 0
  done
  return 1
}
declare -A path_of
while read -r name _ path _; do
  [ "$name" != "${name#/}" ] && path=$name name=$(basename "$name")
  [ -n "${path:-}" ] && [ -e "$path" ] && path_of[$name]=$path
done < <(ldd "$binary" | sed 's/(0x[0-9a-f]*)//')
failures=0
# The sanitizers' runtimes (make test-asan, test-tsan) are no part of the image.
needed=$(readelf -d "$binary" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' \
  | grep -Ev '^lib(a|ub|t|l)san\.so' || true)
[ -n "$needed" ] || { echo "FAIL: readelf found no NEEDED entries in $binary"; exit 1; }
loaded_owners=""
for name in "${!path_of[@]}"; do
  [[ $name =~ ^lib(a|ub|t|l)san\.so ]] && continue
  loaded_owners+="$(owner "${path_of[$name]}" || true)"$'\n'
done
for name in $needed; do
  path=${path_of[$name]:-}
  if [ -z "$path" ]; then
    echo "FAIL: $name (NEEDED) is not resolved by ldd"; failures=$((failures + 1)); continue
  fi
  pkg=$(owner "$path") || { echo "FAIL: no package owns $path"; failures=$((failures + 1)); continue; }
  if grep -qx "$pkg" <<< "$listed"; then
    echo "ok: $name ($pkg)"
  else
    echo "FAIL: $name comes from $pkg, which $list does not list"; failures=$((failures + 1))
  fi
done
for pkg in $listed; do
  if ! grep -qx "$pkg" <<< "$loaded_owners"; then
    echo "FAIL: $list lists $pkg, which owns no library the binary loads"; failures=$((failures + 1))
  fi
done
[ "$failures" -eq 0 ] && echo "runtime packages: all $(wc -w <<< "$needed") NEEDED libraries covered, no stale line" || exit 1
