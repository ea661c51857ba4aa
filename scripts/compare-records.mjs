// Every claim record of AFTER against BEFORE (two results.json), matched by chapter + id + title
// (+ occurrence, for one call that runs several times): verdict and coverage must be unchanged,
// and for Never/Always also counts, executions, runs and steps; every witness's token and
// minimisation text. Prints what moved; exit 1 if any.
// node scripts/compare-records.mjs BEFORE AFTER [--chapters 02,04,13] [--ignore-titles]
// (--ignore-titles matches by chapter + id + occurrence only: for a change that renames claims.)
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
const { values: opts, positionals: files } = parseArgs({ allowPositionals: true, options: { chapters: { type: "string" }, "ignore-titles": { type: "boolean" } } });
const byId = opts["ignore-titles"] === true;
const only = opts.chapters ? new Set(opts.chapters.split(",")) : null;
const load = (f) => {
  const m = new Map();
  for (const c of JSON.parse(readFileSync(f, "utf8")).chapters) {
    const ch = c.file.replace(/^chapters\//, "").slice(0, 2);
    if (only && !only.has(ch)) continue;
    for (const b of c.blocks) for (const r of b.records) {
      if (r.type !== "claim") continue;
      let k = `${ch}\u0000${r.id}\u0000${byId ? "" : r.title}`, n = 0;
      while (m.has(`${k}\u0000${n}`)) n++;
      m.set(`${k}\u0000${n}`, r);
    }
  }
  return m;
};
if (files.length !== 2) { console.error("usage: node scripts/compare-records.mjs BEFORE AFTER [--chapters 02,04,13] [--ignore-titles]"); process.exit(2); }
const [before, after] = files.map(load);
const moved = [];
let same = 0;
for (const [k, b] of before) {
  const a = after.get(k);
  const name = k.split("\u0000").slice(0, 2).join(" ") + ` "${b.title.slice(0, 60)}"`;
  if (!a) { moved.push(`${name}: missing after`); continue; }
  const diffs = [];
  if (a.observed !== b.observed) diffs.push(`observed ${b.observed} -> ${a.observed}`);
  if (JSON.stringify(a.coverage) !== JSON.stringify(b.coverage)) diffs.push(`coverage ${JSON.stringify(b.coverage)} -> ${JSON.stringify(a.coverage)}`);
  const strict = b.observed === "Never" || b.observed === "Always";
  for (const f of ["executions", "runs", "steps"]) if (a.stats[f] !== b.stats[f]) diffs.push(`${strict ? "" : "(Sometimes) "}${f} ${b.stats[f]} -> ${a.stats[f]}`);
  if (JSON.stringify(a.counts) !== JSON.stringify(b.counts)) diffs.push(`counts ${JSON.stringify(b.counts)} -> ${JSON.stringify(a.counts)}`);
  if ((a.witness?.token ?? null) !== (b.witness?.token ?? null)) diffs.push(`witness ${b.witness?.token} -> ${a.witness?.token}`);
  if ((a.witness?.minimisation ?? null) !== (b.witness?.minimisation ?? null)) diffs.push(`minimisation "${b.witness?.minimisation}" -> "${a.witness?.minimisation}"`);
  if (diffs.length) moved.push(`${name}: ${diffs.join("; ")}`); else same++;
}
for (const k of after.keys()) if (!before.has(k)) moved.push(`${k.split("\u0000").slice(0, 2).join(" ")}: new after`);
console.log(`${same} record(s) unchanged, ${moved.length} moved`);
for (const m of moved) console.log("  " + m);
process.exit(moved.length ? 1 : 0);
