// Declared against field footprints (scripts/check-fields.sh): node scripts/compare-fields.mjs DECLARED FIELDS
// Per claim (chapter + id + title + occurrence): the verdict must be the same; where both searches
// are exhaustive and complete, the outcomes ("count:hash" of distinct final states and finding
// kinds, RECORD_OUTCOMES) too. Prints executions of both and what differs; exit 1 on a difference.
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
let compared = 0, decExec = 0, fldExec = 0;
for (const [k, d] of dec) {
  const f = fld.get(k);
  const name = k.split("\u0000").slice(0, 2).join(" ");
  if (!f) { bad.push(`${name}: missing with fields`); continue; }
  const exh = (r) => r.coverage?.kind === "exhaustive" && r.complete && r.strategy === "dpor";
  if (d.observed !== f.observed && !(d.observed === "Incomplete" || f.observed === "Incomplete")) bad.push(`${name}: ${d.observed} -> ${f.observed}`);
  if (exh(d) && exh(f)) {
    compared++;
    decExec += d.stats.executions;
    fldExec += f.stats.executions;
    if (d.stats.outcomes !== f.stats.outcomes) bad.push(`${name}: outcomes ${d.stats.outcomes} -> ${f.stats.outcomes}`);
  }
  if (d.strategy === "dpor" && (d.stats.executions !== f.stats.executions || d.observed !== f.observed))
    rows.push(`${name}\t${d.observed}${exh(d) ? "" : " (not exhaustive)"}\t${d.stats.executions}\t${(d.stats.ms / 1000).toFixed(1)} s\t${f.observed}${exh(f) ? "" : " (not exhaustive)"}\t${f.stats.executions}\t${(f.stats.ms / 1000).toFixed(1)} s`);
}
console.log(["claim", "declared", "executions", "time", "fields", "executions", "time"].join("\t"));
for (const r of rows) console.log(r);
console.log(`${compared} exhaustive dpor claim(s) compared: executions declared ${decExec}, fields ${fldExec}; ${bad.length} difference(s)`);
for (const b of bad) console.log("  " + b);
process.exit(bad.length ? 1 : 0);
