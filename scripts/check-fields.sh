#!/usr/bin/env bash
# Issue 13 goal 1, cross-check of field footprints (lib/explorer/README.md "Field footprints"):
# builds the book twice in a scratch worktree of HEAD, with RECORD_OUTCOMES on (config.ts: the
# number and a hash of the distinct outcomes of every search in its stats), first with declared
# footprints, then with DEFAULT_FIELDS on (every dpor claim that does not say otherwise uses field
# footprints), and compares the two (scripts/compare-fields.mjs): same verdict for every claim, and
# for every claim both runs decide exhaustively, the same set of outcomes. Any difference is a lost
# trace until explained. Not part of npm test: two cold book runs (about 5 minutes on 2 cores).
#   scripts/check-fields.sh [OUT_DIR=/tmp/check-fields]
# DECLARED=FILE reuses a declared run (its results.json; declared footprints do not depend on which
# kernel steps are split, so one from an earlier commit with the same chapters will do).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-/tmp/check-fields}
mkdir -p "$OUT"
SCRATCH=$(mktemp -d /tmp/check-fields.XXXX)
git -C "$ROOT" worktree add --detach "$SCRATCH" HEAD >/dev/null
trap 'git -C "$ROOT" worktree remove --force "$SCRATCH"' EXIT
cd "$SCRATCH"
cp -al "$ROOT/node_modules" ./node_modules
sed -i -E 's/RECORD_OUTCOMES = false/RECORD_OUTCOMES = true/' lib/explorer/config.ts
run() { npm run -s compile && /usr/bin/time -f "$1: %e s" node --always-sparkplug --no-allocation-site-pretenuring --single-threaded-gc dist/build/src/cli.js build --no-site --no-cache --results "$OUT/$1.json" >"$OUT/$1.log" 2>&1 || true; tail -1 "$OUT/$1.log"; }
if [ -n "${DECLARED:-}" ]; then cp "$DECLARED" "$OUT/declared.json"; else run declared; fi
sed -i -E 's/DEFAULT_FIELDS = false/DEFAULT_FIELDS = true/' lib/explorer/config.ts
run fields
node "$ROOT/scripts/compare-fields.mjs" "$OUT/declared.json" "$OUT/fields.json"
