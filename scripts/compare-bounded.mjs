// Per claim decided within a preemption bound in BEFORE (results.json), the same claim in AFTER:
// node scripts/compare-bounded.mjs BEFORE AFTER   (claims matched by id and title)
import { readFileSync } from "node:fs";
const load = (f) => {
  const m = new Map();
  for (const c of JSON.parse(readFileSync(f, "utf8")).chapters)
    for (const b of c.blocks) for (const r of b.records) if (r.type === "claim") m.set(`${r.id}\u0000${r.title}`, r);
  return m;
};
const [before, after] = process.argv.slice(2).map(load);
const rows = [];
for (const [k, r] of before) {
  if (r.coverage?.kind !== "bounded" || !(r.observed === "Never" || r.observed === "Always")) continue;
  const a = after.get(k);
  rows.push([r.id, r.title.slice(0, 50), `${r.observed} ≤${r.coverage.preemptions}`, r.stats.executions, a ? a.observed : "-", a?.coverage?.kind ?? "-", a?.complete ?? "-", a?.stats.executions ?? "-", a?.stats.steps ?? "-", a?.stats.runs ?? "-"]);
}
console.log(["id", "title", "before", "bounded execs", "after", "coverage", "complete", "execs", "steps", "runs"].join("\t"));
for (const r of rows) console.log(r.join("\t"));
