// Declared against field footprints (scripts/check-fields.sh): node scripts/compare-fields.mjs DECLARED FIELDS
// Per claim (chapter + id + title + occurrence): the verdict must be the same; where both searches
// are exhaustive and complete, the outcomes ("count:hash" of distinct final states and finding
// kinds, RECORD_OUTCOMES) too. Prints executions, runs and steps of both (MORE STEPS where the
// second took more) and what differs; exit 1 on a difference. Also used for any before/after pair.
import { readFileSync } from "node:fs";
const load = (f) => {
  const m = new Map();
  for (const c of JSON.parse(readFileSync(f, "utf8")).chapters) {
    const ch = c.file.replace(/^chapters\//, "").slice(0, 2);
    for (const b of c.blocks) for (const r of b.records) {
      if (r.type !== "claim") continue;
      let k = `${ch}\u0000${r.id}\u0000${r.title}`, n = 0;
      while (m.has(`${k}\u0000${n}`)) n++;
      m.set(`${k}\u0000${n}`, r);
    }
  }
  return m;
};
const [dec, fld] = process.argv.slice(2, 4).map(load);
const bad = [], rows = [];
// Executions alone can mislead: a run that a sleep set cuts short is not an execution, yet it costs
// its steps (a change that lowered C03.3's executions by 15% raised its runs by 38% and its steps
// by 35%, December 2026). So runs and steps are printed and totalled too.
let compared = 0;
const total = { dec: { executions: 0, runs: 0, steps: 0 }, fld: { executions: 0, runs: 0, steps: 0 } };
const add = (t, r) => { for (const f of ["executions", "runs", "steps"]) t[f] += r.stats[f]; };
for (const [k, d] of dec) {
  const f = fld.get(k);
  const name = k.split("\u0000").slice(0, 2).join(" ");
  if (!f) { bad.push(`${name}: missing with fields`); continue; }
  const exh = (r) => r.coverage?.kind === "exhaustive" && r.complete && r.strategy === "dpor";
  if (d.observed !== f.observed && !(d.observed === "Incomplete" || f.observed === "Incomplete")) bad.push(`${name}: ${d.observed} -> ${f.observed}`);
  if (exh(d) && exh(f)) {
    compared++;
    add(total.dec, d);
    add(total.fld, f);
    if (d.stats.outcomes !== f.stats.outcomes) bad.push(`${name}: outcomes ${d.stats.outcomes} -> ${f.stats.outcomes}`);
  }
  const counts = (r) => `${r.stats.executions}\t${r.stats.runs}\t${r.stats.steps}\t${(r.stats.ms / 1000).toFixed(1)} s`;
  if (d.strategy === "dpor" && (d.stats.executions !== f.stats.executions || d.stats.runs !== f.stats.runs || d.stats.steps !== f.stats.steps || d.observed !== f.observed))
    rows.push(`${name}\t${d.observed}${exh(d) ? "" : " (not exhaustive)"}\t${counts(d)}\t${f.observed}${exh(f) ? "" : " (not exhaustive)"}\t${counts(f)}${f.stats.steps > d.stats.steps ? "\tMORE STEPS" : ""}`);
}
console.log(["claim", "declared", "executions", "runs", "steps", "time", "fields", "executions", "runs", "steps", "time"].join("\t"));
for (const r of rows) console.log(r);
const sum = (t) => `executions ${t.executions}, runs ${t.runs}, steps ${t.steps}`;
console.log(`${compared} exhaustive dpor claim(s) compared: declared ${sum(total.dec)}; fields ${sum(total.fld)}; ${bad.length} difference(s)`);
for (const b of bad) console.log("  " + b);
process.exit(bad.length ? 1 : 0);
