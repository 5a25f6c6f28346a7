#!/usr/bin/env bash
# Lints the Dockerfiles with dockerfile-utils (npm; hadolint is not installable here) and fails on any finding,
# warnings included (dockerfile-utils itself exits 1 on errors only).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
files=("$@")
[ ${#files[@]} -gt 0 ] || files=(Dockerfile deploy/container/node-standin.Containerfile)
status=0
for f in "${files[@]}"; do
  findings=$(npx --no-install dockerfile-utils lint --json "$f") || true
  if [ "$findings" != "[]" ]; then
    npx --no-install dockerfile-utils lint "$f" || true
    echo "lint:dockerfile: findings in $f" >&2
    status=1
  fi
done
[ "$status" -eq 0 ] && echo "lint:dockerfile: ${files[*]}: no findings"
exit "$status"
