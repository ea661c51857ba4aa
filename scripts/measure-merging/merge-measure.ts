// MEASUREMENT ONLY, never part of lib/: scripts/measure-merging.sh copies this file into a scratch
// worktree's lib/explorer/ and hooks it into Execution (after every step, at the end of every
// execution). It asks how much of one DPOR search a stateful DPOR could skip, and how much of it
// is replay (lib/kernel/README.md, "What merging equal states could save").
//
// Every step of every execution (DPOR's probes and a witness's minimisation included) ends at a
// node of the search tree, named by the decisions so far. A node seen for the first time is work
// a search that could restore a state would still do; every other step re-runs a prefix. A new
// node whose state an earlier node (with other decisions) already reached is a merge point: it
// and everything below it is work an ideal stateful DPOR would not do.
//
// The state key is an estimate, not exact, in both directions:
//  - what it holds: every value reachable from the model's explorer objects and from the objects
//    each thread's generator holds in its closure scopes (the model's k, mm, the driver; found
//    once per execution through the inspector's [[Scopes]], because the chapters' drivers keep
//    their state in plain objects no explorer object reaches), walked in a fixed order, shared
//    objects by first-visit index; each thread's history of the values returned into it; each
//    thread's pending op; the kinds of the findings so far.
//  - it over-merges where a primitive lives only in a closure variable (a `let`), or where thread
//    code read shared state outside a step's result and the history does not show it;
//  - it under-merges where bookkeeping that does not decide the future differs (a task's call
//    frames, lockdep's chains, names of objects made in a different order).
// The check it prints against over-merging: the outcomes (status, finding kinds, final()) seen on
// paths through no merge point, against those of all paths. A key that merged states with
// different futures would lose some outcome on the first set (not every time: the check is
// evidence, not proof).
//
// Output: MERGE_LOG (a file, rewritten after every execution, so a run that is stopped still
// leaves its totals), else stderr at the end of each 5 000 nodes.

// Relative to the repository root from both places this file runs: scripts/measure-merging/ (the
// test) and lib/explorer/ (the script's scratch worktree).
import { Histories } from "../../lib/explorer/state-key.ts";

// The measurement reaches into the Execution it is hooked into and into the inspector: untyped on purpose.
type Anyish = any;

const proc: Anyish = (globalThis as Anyish).process;
const LOG: string | undefined = proc?.env?.MERGE_LOG;

/** A deep key of everything reachable from `roots` (functions are opaque). */
export function deepKey(roots: readonly unknown[]): string {
  const seen = new Map<unknown, number>();
  const out: string[] = [];
  const walk = (v: Anyish): void => {
    switch (typeof v) {
      case "number": out.push("n" + v); return;
      case "string": out.push(JSON.stringify(v)); return;
      case "boolean": out.push(v ? "T" : "F"); return;
      case "undefined": out.push("u"); return;
      case "bigint": out.push("b" + v); return;
      case "function": out.push("f"); return;
      case "symbol": out.push("s"); return;
    }
    if (v === null) { out.push("N"); return; }
    const at = seen.get(v);
    if (at !== undefined) { out.push("@" + at); return; }
    seen.set(v, seen.size);
    if (ArrayBuffer.isView(v)) { out.push("t[" + Array.prototype.join.call(v, ",") + "]"); return; }
    if (Array.isArray(v)) { out.push("["); for (let i = 0; i < v.length; i++) walk(v[i]); out.push("]"); return; }
    if (v instanceof Map) { out.push("M{"); for (const [a, b] of v) { walk(a); walk(b); } out.push("}"); return; }
    if (v instanceof Set) { out.push("S{"); for (const a of v) walk(a); out.push("}"); return; }
    out.push((v.constructor?.name ?? "") + "{");
    for (const key of Object.keys(v)) { out.push(key); walk(v[key]); }
    out.push("}");
  };
  for (const r of roots) walk(r);
  return out.join("\u0001");
}

// ---- closure roots, through the inspector (same thread: session.post answers synchronously) ----

let session: Anyish = null;
const post = (method: string, params: object): Anyish => {
  let out: Anyish, err: Anyish;
  session.post(method, params, (e: Anyish, r: Anyish) => { err = e; out = r; });
  if (err) throw err;
  return out;
};

/** The objects each generator holds in its closure scopes (not the global, script or module ones). */
function closureRoots(gens: readonly unknown[]): unknown[] {
  if (session === null) {
    session = new (proc.getBuiltinModule("node:inspector").Session)();
    session.connect();
  }
  const g = globalThis as Anyish;
  g.__mergeRoots = [];
  for (const gen of gens) {
    g.__mergeGen = gen;
    const id = post("Runtime.evaluate", { expression: "globalThis.__mergeGen" }).result.objectId;
    const scopes = (post("Runtime.getProperties", { objectId: id, ownProperties: true }).internalProperties ?? []).find((p: Anyish) => p.name === "[[Scopes]]");
    if (!scopes) continue;
    for (const s of post("Runtime.getProperties", { objectId: scopes.value.objectId, ownProperties: true }).result) {
      if (!s.value?.objectId || /^(Global|Script|Module)/.test(s.value.description ?? "")) continue;
      for (const v of post("Runtime.getProperties", { objectId: s.value.objectId, ownProperties: true }).result)
        if (v.value?.objectId && v.value.type === "object") post("Runtime.callFunctionOn", { objectId: v.value.objectId, functionDeclaration: "function () { globalThis.__mergeRoots.push(this); }" });
    }
    post("Runtime.releaseObjectGroup", { objectGroup: "" });
  }
  // Objects of imported bindings (the loader's stand-ins for module namespaces: mostly functions) hold no state.
  return (g.__mergeRoots as Anyish[]).filter((r) => {
    const p = Object.getPrototypeOf(r);
    if (p !== Object.prototype && p !== null) return true;
    const vals = Object.keys(r).map((k) => { try { return r[k]; } catch { return undefined; } });
    return vals.filter((x) => typeof x === "function").length * 2 <= vals.length;
  });
}

// ---- the tree and its states ----

const cyrb53 = (str: string): number => {
  let h1 = 0xdeadbeef, h2 = 0x41c6ce57;
  for (let i = 0; i < str.length; i++) { const ch = str.charCodeAt(i); h1 = Math.imul(h1 ^ ch, 2654435761); h2 = Math.imul(h2 ^ ch, 1597334677); }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
};
const prefixes = new Map<string, number>(); // "parent id,decisions since" -> node id
const mergedAt: boolean[] = [false];
const states = new Set<string>(); // a 53-bit hash and the length of each key: a collision only merges more
let histories = new Histories();
let steps = 0, nodes = 0, below = 0, points = 0, executions = 0;
const outAll = new Set<string>(), outUnmerged = new Set<string>();

/** Forget every search measured so far (one search per measurement; the test measures several). */
export function resetMeasure(): void {
  prefixes.clear();
  mergedAt.length = 1;
  states.clear();
  histories = new Histories();
  steps = nodes = below = points = executions = 0;
  outAll.clear();
  outUnmerged.clear();
  session?.disconnect();
  session = null;
}

/** The totals so far. */
export function totals(): { steps: number; nodes: number; states: number; points: number; below: number; outcomes: number; outcomesUnmerged: number } {
  return { steps, nodes, states: states.size, points, below, outcomes: outAll.size, outcomesUnmerged: outUnmerged.size };
}

const valueKey = (v: unknown): string =>
  v === null || typeof v !== "object" ? (typeof v === "string" ? JSON.stringify(v) : typeof v === "function" ? "f" : String(v))
    : typeof (v as Anyish).id === "number" && typeof (v as Anyish).type === "string" ? `#${(v as Anyish).id}` : deepKey([v]);

/** After thread t's step (its op and its code up to the next op): x is the Execution. */
export function measureStep(x: Anyish, t: number, result: unknown): void {
  steps++;
  const h: number[] = (x.__mergeHist ??= []);
  h[t] = histories.extend(h[t] ?? 0, valueKey(result));
  const d: number[] = x.decisions;
  const pk = `${x.__mergeNode ?? 0},${d.slice(x.__mergeLen ?? 0).join(".")}`;
  x.__mergeLen = d.length;
  let id = prefixes.get(pk);
  if (id !== undefined) { x.__mergeNode = id; if (mergedAt[id]) x.__mergeBelow = true; return; }
  prefixes.set(pk, (id = prefixes.size + 1));
  let merged = mergedAt[x.__mergeNode ?? 0] === true;
  x.__mergeNode = id;
  nodes++;
  if (!merged) {
    x.__mergeRoots ??= closureRoots(x.threads.map((th: Anyish) => th.gen));
    const pending = x.threads.map((th: Anyish) => (th.pending ? `${th.pending.obj?.id ?? -1}/${th.pending.kind}/${th.pending.label ?? ""}` : "-")).join(";");
    const locals = x.threads.map((th: Anyish, i: number) => (th.done ? "D" : String(h[i] ?? 0))).join(",");
    const key = `${deepKey([...x.objects, ...x.__mergeRoots])}|${locals}|${pending}|${x.findings.map((f: Anyish) => f.kind).sort().join(",")}`;
    const hv = `${cyrb53(key)}/${key.length}`;
    if (states.has(hv)) { merged = true; points++; } else states.add(hv);
  }
  mergedAt[id] = merged;
  if (merged) { below++; x.__mergeBelow = true; }
  if (LOG === undefined && nodes % 5000 === 0) proc.stderr.write(summary() + "\n");
}

/** At the end of an execution: its outcome, on a path through a merge point or not. */
export function measureEnd(x: Anyish): void {
  executions++;
  let fin = "";
  try { fin = JSON.stringify(x.final) ?? ""; } catch { fin = "?"; }
  const o = `${x.status}|${x.findings.map((f: Anyish) => f.kind).sort().join(",")}|${fin}`;
  outAll.add(o);
  if (!x.__mergeBelow) outUnmerged.add(o);
  if (LOG !== undefined) proc.getBuiltinModule("node:fs").writeFileSync(LOG, summary() + "\n");
}

function summary(): string {
  const lost = [...outAll].filter((k) => !outUnmerged.has(k));
  return [
    `executions (probes included) ${executions}, steps run ${steps}`,
    `tree nodes (steps a search that restores states would run) ${nodes}: steps / nodes ${(steps / Math.max(1, nodes)).toFixed(2)}`,
    `states (nodes an ideal stateful DPOR would visit) ${states.size}, merge points ${points}, nodes below a merge point ${below} (${((100 * below) / Math.max(1, nodes)).toFixed(1)} %): steps / states ${(steps / Math.max(1, states.size)).toFixed(1)}`,
    `outcomes ${outAll.size}, on paths through no merge point ${outUnmerged.size}${lost.length ? `; LOST: ${lost.slice(0, 5).join(" ; ")}` : " (none lost)"}`,
  ].join("\n");
}
