#!/usr/bin/env bash
# Commits notecast's ledger back to the branch the run started from, so that the next run knows what was
# sent. Used by .github/workflows/publish.yml and by the composite action (action.yml).
#
#   bash .github/scripts/commit-ledger.sh [CONFIG]     CONFIG: notecast.toml (default ./notecast.toml if present)
#
# Needs: a checkout that can push (actions/checkout's default token, job permission `contents: write`) and
# a `python` with notecast installed (the ledger's path comes from notecast's own configuration).
# If the branch moved while notecast ran, the commit is rebased onto it and pushed again, up to 5 times. The
# ledger is append-only, so when both sides added lines the rebase keeps both (git's union merge).
set -euo pipefail
attempts=5
config="${1:-}"
branch="${GITHUB_REF_NAME:?GITHUB_REF_NAME is not set: run this in GitHub Actions}"
if [ "${GITHUB_REF_TYPE:-branch}" != branch ]; then
  echo "::error::notecast: this run started from the tag $branch; run it from a branch so the ledger can be pushed"
  exit 1
fi
top="$(git rev-parse --show-toplevel)"
ledger="$(python - "$config" <<'PY'
import os
import sys

from pipeline.config import load

print(os.path.abspath(load(sys.argv[1] or None).ledger))
PY
)"
cd "$top"
rel="$(realpath --relative-to="$top" "$ledger")"
[ -z "${GITHUB_OUTPUT:-}" ] || echo "ledger=$rel" >> "$GITHUB_OUTPUT"
if [ ! -f "$rel" ]; then
  echo "notecast: no ledger at $rel: nothing was sent, nothing to commit"
  exit 0
fi
git add --force -- "$rel"   # --force: the ledger must be kept even if a .gitignore pattern matches it
if git diff --cached --quiet -- "$rel"; then
  echo "notecast: the ledger did not change: nothing to commit"
  exit 0
fi
git config user.name "github-actions[bot]"
git config user.email "41898282+github-actions[bot]@users.noreply.github.com"
printf '/%s merge=union\n' "$rel" >> "$(git rev-parse --git-path info/attributes)"
run_url="${GITHUB_SERVER_URL:-https://github.com}/${GITHUB_REPOSITORY:-}/actions/runs/${GITHUB_RUN_ID:-}"
git commit --quiet -m "notecast: ledger of run ${GITHUB_RUN_ID:-}" -m "$run_url" -- "$rel"
for attempt in $(seq 1 "$attempts"); do
  if git push --quiet origin "HEAD:refs/heads/$branch"; then
    echo "notecast: ledger committed to $branch ($(git rev-parse --short HEAD))"
    exit 0
  fi
  [ "$attempt" -lt "$attempts" ] || break
  echo "notecast: push rejected (attempt $attempt of $attempts): $branch has moved; rebasing the ledger commit onto it"
  sleep $((attempt * 2))
  if ! git pull --quiet --rebase origin "$branch"; then
    git rebase --abort 2>/dev/null || true
    echo "notecast: the rebase failed; trying again"
  fi
done
echo "::error::notecast: could not push the ledger to $branch after $attempts attempts. Until its lines are" \
  "committed, notecast does not know what this run sent: disable the schedule, add these lines to $rel by hand" \
  "(they are also kept as this run's artifact when the workflow uploads one), commit, then re-enable it."
git show --format= --no-color HEAD -- "$rel" | sed -n 's/^+{/{/p'
exit 1
