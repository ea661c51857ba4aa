#!/usr/bin/env bash
# Issue 13 goal 1, measuring step (not part of any test): how big is the EXHAUSTIVE search of
# every claim the book decides within a preemption bound? Builds the book in a scratch worktree
# with every `{ strategy: "bounded", preemptions: k }` replaced by `{ strategy: "dpor" }` and
# the default execution budget set to $BUDGET, then prints, per bounded Never/Always claim of
# the reference results, the exhaustive run's executions, steps and whether it completed.
#   scripts/measure-bounded.sh [BUDGET=20000]   (minutes of CPU: run it once, not in a loop)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUDGET=${1:-20000}
SCRATCH=$(mktemp -d /tmp/measure-bounded.XXXX)
git -C "$ROOT" worktree add --detach "$SCRATCH" HEAD >/dev/null
trap 'git -C "$ROOT" worktree remove --force "$SCRATCH"' EXIT
cd "$SCRATCH"
cp -al "$ROOT/node_modules" ./node_modules
grep -rl 'strategy: "bounded"' chapters lib/kernel | xargs sed -i -E 's/\{ strategy: "bounded", preemptions: [0-9] \}/{ strategy: "dpor" }/g'
sed -i -E "s/DEFAULT_BUDGET_EXECUTIONS = [0-9_]+/DEFAULT_BUDGET_EXECUTIONS = $BUDGET/" lib/explorer/config.ts
npm run -s build >/dev/null 2>&1 || true
node "$ROOT/scripts/compare-bounded.mjs" "$ROOT/results/results.json" results/results.json
