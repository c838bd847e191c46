#!/usr/bin/env bash
# Installs the AT Protocol reference PDS (recipe: RECIPE.md beside this file) into .peers/bluesky-pds,
# outside the source tree's tracked files. Skips the work when the same lock file is already installed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dest="${NOTECAST_PDS_DIR:-$here/../../.peers/bluesky-pds}"
want="$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)"
if [ -x "$dest/node_modules/.bin/node" ] && [ "$(cat "$dest/.installed" 2>/dev/null)" = "$want" ]; then
  echo "bluesky-pds: already installed in $dest"
  exit 0
fi
command -v npm >/dev/null || { echo "bluesky-pds: npm is needed (apt-get install npm)" >&2; exit 1; }
mkdir -p "$dest"
cp "$here/package.json" "$here/package-lock.json" "$here/start.mjs" "$here/build-native.mjs" "$dest/"
start=$(date +%s)
(cd "$dest" && npm ci --no-audit --no-fund --loglevel=error)
echo "$want" > "$dest/.installed"
echo "bluesky-pds: installed in $dest in $(( $(date +%s) - start )) s"
