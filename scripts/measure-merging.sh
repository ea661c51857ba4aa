#!/usr/bin/env bash
# Issue 13, goal 4: how much of one block's DPOR search is replay, and how much an ideal stateful
# DPOR could skip (lib/kernel/README.md, "What merging equal states could save"; the method and
# the key's known errors are in scripts/measure-merging/merge-measure.ts). Runs the block with
# `run --unconfined` in a scratch worktree of HEAD, into whose lib/explorer/ the measurement is
# copied and hooked (two lines in execution.ts); the tree you work in is not touched. Measure one
# search per run: a block whose claims make several searches mixes their trees. Slow: a key of
# the whole model at every new node (C03.3-whatif-rangeend: about 4 minutes).
#   scripts/measure-merging.sh CHAPTER BLOCK [--full] [--dpor]
# --full: a Sometimes search does not stop at its first witness (every outcome, for the check).
# --dpor: every search of the block is source-DPOR over field footprints, whatever it declares
#   (a bounded claim's exhaustive search, for the check).
# The totals are rewritten after every execution into $OUT (default /tmp/measure-merging.txt).
set -euo pipefail
[ $# -ge 2 ] || { sed -n 2,14p "$0"; exit 2; }
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CHAPTER=$1 BLOCK=$2
shift 2
FULL= DPOR=
for a in "$@"; do case $a in --full) FULL=1 ;; --dpor) DPOR=1 ;; *) echo "measure-merging: unknown option $a" >&2; exit 2 ;; esac; done
OUT=${OUT:-/tmp/measure-merging.txt}
SCRATCH=$(mktemp -d /tmp/measure-merging.XXXX)
git -C "$ROOT" worktree add --detach "$SCRATCH" HEAD >/dev/null
trap 'git -C "$ROOT" worktree remove --force "$SCRATCH"' EXIT
cd "$SCRATCH"
ln -s "$ROOT/node_modules" node_modules
cp "$ROOT/scripts/measure-merging/merge-measure.ts" lib/explorer/merge-measure.ts
X=lib/explorer/execution.ts
# The hooks: after a step's thread code has run up to its next op, and after final().
grep -q '^    this.advance(t, result);$' $X && grep -q 'if (this.finalFn && this.status !== "pruned") this.final = this.finalFn();' $X ||
  { echo "measure-merging: lib/explorer/execution.ts no longer has the lines the hooks follow; update $0" >&2; exit 1; }
sed -i -e '0,/^import /s//import { measureEnd, measureStep } from ".\/merge-measure.ts";\nimport /' \
  -e 's/^    this.advance(t, result);$/&\n    measureStep(this, t, result);/' \
  -e 's/^\(      \)if (this.finalFn \&\& this.status !== "pruned") this.final = this.finalFn();$/&\n\1measureEnd(this);/' $X
C=lib/explorer/claim.ts
if [ -n "$DPOR" ]; then
  grep -q '  const cfg: SearchConfig = normaliseSearch(spec.search);' $C || { echo "measure-merging: claim.ts's searchAll has no cfg line; update $0" >&2; exit 1; }
  sed -i 's/^  const cfg: SearchConfig = normaliseSearch(spec.search);/  const cfg: SearchConfig = { ...normaliseSearch(spec.search), strategy: "dpor", fields: true, preemptions: undefined } as SearchConfig;/' $C
fi
if [ -n "$FULL" ]; then
  grep -q 'const stopEarly = opts.stopEarly ?? true;' $C || { echo "measure-merging: claim.ts has no stopEarly default; update $0" >&2; exit 1; }
  sed -i 's/const stopEarly = opts.stopEarly ?? true;/const stopEarly = false;/' $C
fi
npm run -s compile
rm -f "$OUT"
MERGE_LOG="$OUT" node --no-allocation-site-pretenuring --single-threaded-gc dist/build/src/cli.js run --unconfined "$CHAPTER" "$BLOCK" | grep -v '^\s*$' | tail -4 || true
echo "--- $CHAPTER $BLOCK${FULL:+ --full}${DPOR:+ --dpor}"
cat "$OUT"
