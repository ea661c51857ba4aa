// The run stage's work units (build/src/run.ts, hash.ts `unitHash`): each test block runs with a
// fresh evaluation of its chapter's definitions, so it cannot see what another block left, and
// its records are cached under a key of what it was given. An edit re-runs exactly the units
// whose key changed.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it, test } from "vitest";
import { extract, type Extract } from "../../build/src/extract.ts";
import { SourceCache, unitHash } from "../../build/src/hash.ts";
import { build } from "../../build/src/pipeline.ts";
import type { Results } from "../../build/src/results.ts";
import { runChapters, runUnits, unitsOf, WorkerPool, type UnitRun } from "../../build/src/run.ts";
import { checkChapters } from "../../build/src/typecheck.ts";
import type { Diagnostic } from "../../build/src/diagnostic.ts";
import { ModuleCompiler } from "../../build/src/sandbox/modules.ts";
import { runCommand } from "../../build/src/run-command.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
// Three folders below the root, like the fixture book, so that `../../../lib/` imports hold.
const WORK = path.join(ROOT, "test-results/units");

const IMPORTS = '```ts\nimport { model, claim } from "../../../lib/explorer/index.ts";\nlet flag = false;\nconst idle = model("idle", () => ({ threads: { A: function* () {} } }));\n```\n';
const chapter = (o: { prose?: string; leave?: string; read?: string; defs?: string } = {}) => [
  "# Units", "", o.prose ?? "Some prose.", "", IMPORTS,
  "```ts test id=leaves-state", o.leave ?? "flag = true;", 'claim({ id: "U1", title: "leaves a flag behind", model: idle, predicate: () => false, expect: "Never" });', "```", "",
  "```ts test id=reads-state", o.read ?? 'claim({ id: "U2", title: "sees no other block\'s flag", model: idle, predicate: () => flag, expect: "Never" });', "```", "",
  "```ts", o.defs ?? "const later = 1;", "```", "",
].join("\n");

function writeBook(name: string, text: string): string {
  const dir = path.join(WORK, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "01-units.md"), text);
  return path.join(dir, "01-units.md");
}

describe("a test block cannot see another test block's state", () => {
  test("a block that sets a definition's variable leaves it unset for the next block, alone or after it", async () => {
    const file = writeBook("isolation", chapter());
    const extracts = new Map<string, Extract>([[file, extract(path.relative(ROOT, file), chapter())]]);
    const all = (await runChapters(ROOT, [file], extracts, { workers: 1 })).modules[0]!;
    expect(all.errors).toEqual([]);
    expect(all.tests.map((t) => [t.name, t.state])).toEqual([["leaves-state", "passed"], ["reads-state", "passed"]]);
    // Under one shared module instance, `flag` would be true here and U2 would observe Always.
    const rec = (m: typeof all) => (m.tests.find((t) => t.name === "reads-state")!.meta!.records![0] as { observed: string }).observed;
    expect(rec(all)).toBe("Never");
    const alone = (await runChapters(ROOT, [file], extracts, { workers: 1, only: ["reads-state"] })).modules[0]!;
    expect(rec(alone)).toBe(rec(all));
  });
});

describe("a chapter is compiled once for all its units", () => {
  test("every unit's entry is the one module of the whole chapter, and each unit runs only its own block", async () => {
    const file = writeBook("compiled-once", chapter());
    const extracts = new Map<string, Extract>([[file, extract(path.relative(ROOT, file), chapter())]]);
    const units = unitsOf(file, extracts.get(file)!);
    const b = new ModuleCompiler(ROOT, extracts).bundleOf(file, units.map((u) => `${file}?unit=${encodeURIComponent(u.block!)}`));
    const entries = units.map((u) => b.modules[`${file}?unit=${encodeURIComponent(u.block!)}`]!);
    expect(entries[0]).toBe(entries[1]);
    expect(entries[0]!.code).toContain("leaves a flag behind");
    expect(entries[0]!.code).toContain("sees no other block");
    const runs = await runUnits(new ModuleCompiler(ROOT, extracts), units, { workers: 1 });
    expect(runs.map((u) => [u.block, u.tests.map((t) => [t.name, t.state])])).toEqual([
      ["leaves-state", [["leaves-state", "passed"]]],
      ["reads-state", [["reads-state", "passed"]]],
    ]);
  });

  test("a block that does not parse fails only its own unit: such a chapter is compiled unit by unit", async () => {
    const text = chapter({ leave: "flag = (;" });
    const file = writeBook("compiled-broken", text);
    const extracts = new Map<string, Extract>([[file, extract(path.relative(ROOT, file), text)]]);
    const units = unitsOf(file, extracts.get(file)!);
    const b = new ModuleCompiler(ROOT, extracts).bundleOf(file, units.map((u) => `${file}?unit=${encodeURIComponent(u.block!)}`));
    expect(new Set(Object.values(b.modules).filter((m) => m.file === file).map((m) => m.id)).size).toBe(2);
    const runs = await runUnits(new ModuleCompiler(ROOT, extracts), units, { workers: 1 });
    expect(runs[0]!.loadError).toBe(true);
    expect(runs[1]!.loadError).toBeFalsy();
    expect(runs[1]!.tests.map((t) => [t.name, t.state])).toEqual([["reads-state", "passed"]]);
  });
});

describe("a block that makes the whole chapter fail to load fails only its own unit", () => {
  // Each unit runs the whole chapter's module (modules.ts bundleOf); these blocks parse, but the
  // whole module does not load: a string SES refuses, an import statement inside a test block, and
  // an import only that block uses of a chapter that throws. Found by review: the other unit
  // cached a load error under a key of its own text, which outlived the fix of the broken block.
  const other = "# Other\n\n```ts\nexport const helper = 1;\nif (helper === 1) throw new Error(\"the other chapter fails to load\");\n```\n";
  const text = (b: string, head = "") => chapter({ defs: "const later = 1;" + head, read: `${b}\nclaim({ id: "U2", title: "b", model: idle, predicate: () => false, expect: "Never" });` });
  it.each([
    ["eval", 'const s = "eval(";', ""],
    ["import", 'import { model as m2 } from "../../../lib/explorer/index.ts"; void m2;', ""],
    ["elided", "void helper;", '\nimport { helper } from "./00-other.md";'],
  ] as const)("%s", async (name, broken, head) => {
    const dir = path.join(WORK, `whole-${name}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    if (head) writeFileSync(path.join(dir, "00-other.md"), other);
    const file = path.join(dir, "01-units.md");
    const once = async (t: string) => {
      writeFileSync(file, t);
      const ran: string[] = [];
      const out = await build({ root: ROOT, chaptersDir: dir, resultsFile: path.join(dir, "results.json"), cacheDir: path.join(dir, "cache"), onUnit: (u) => { if (u.file === file) ran.push(`${u.block}:${u.loadError ? "load error" : u.tests.map((x) => x.state).join()}`); } });
      return { ran: ran.sort(), status: out.results.chapters.find((c) => c.file.endsWith("01-units.md"))!.status };
    };
    const bad = await once(text(broken, head));
    expect(bad.ran).toEqual(["leaves-state:passed", "reads-state:load error"]);
    // The broken block fixed: it runs again, and the chapter passes, as a cold build would. For
    // "elided", the other unit runs again too: which imported chapters' names any block uses is in
    // every key (the chapters the emitted module loads, load-check.ts), because it decides which chapters a unit loads.
    const fixed = await once(text("", head));
    expect(fixed).toEqual({ ran: name === "elided" ? ["leaves-state:passed", "reads-state:passed"] : ["reads-state:passed"], status: "passed" });
  });
});

describe("npm run chapter", () => {
  test("prints each claim's verdict and the coverage that decided it", async () => {
    const file = writeBook("run-command", chapter());
    const lines: string[] = [];
    const log = console.log;
    console.log = (...a: unknown[]) => void lines.push(a.join(" "));
    try {
      expect(await runCommand(ROOT, [path.relative(ROOT, file), "reads-state"], null)).toBe(0);
    } finally {
      console.log = log;
    }
    expect(lines.map((l) => l.replace(/\x1b\[[0-9;]*m/g, "").replace(/\d+ ms/g, "N ms"))).toEqual([
      "✓ reads-state (N ms)",
      "    U2: Never (expected Never); exhaustive, source-DPOR, 1 execution, N ms",
      "1 passed, 0 failed",
    ]);
  });

  test("runs a skip block when it is named, and only then", async () => {
    // A search too long for every build is kept in a `skip` block that a reader runs by name.
    const text = chapter().replace("```ts test id=reads-state", "```ts test id=reads-state skip");
    const file = writeBook("run-command-skip", text);
    const runs = async (args: string[]) => {
      const lines: string[] = [];
      const log = console.log;
      console.log = (...a: unknown[]) => void lines.push(a.join(" ").replace(/\x1b\[[0-9;]*m/g, ""));
      try {
        expect(await runCommand(ROOT, [path.relative(ROOT, file), ...args], null)).toBe(0);
      } finally {
        console.log = log;
      }
      return lines.filter((l) => l.includes("U2:")).length;
    };
    expect(await runs(["reads-state"])).toBe(1);
    expect(await runs([])).toBe(0);
    expect(await runs(["leaves-state"])).toBe(0);
  });
});

describe("lib/ is linked once per worker and shared by its units, yet no unit reaches the next through it", () => {
  // The first block tampers with everything of lib/ a chapter can reach: an exported object and a
  // class prototype (hardened: the write throws), and every ambient slot (setters, an installed
  // guard); the second throws in the middle of an execution; the third reads it all back.
  const L = "../../../lib/explorer";
  const text = [
    "# Shared lib", "", "```ts",
    `import { model, claim, Mutex, setProgress, setReplayToken } from "${L}/index.ts";`,
    `import { setClaimGate, setClaimSink } from "${L}/claim.ts";`,
    `import { runtime, setRuntime } from "${L}/context.ts";`,
    `import { installGuard } from "${L}/guard.ts";`,
    `import { getProgress, getHeartbeat } from "${L}/progress.ts";`,
    `import { replayToken } from "${L}/replay-claim.ts";`,
    `import { mutations } from "${L}/stateful.ts";`,
    `import { record } from "../../../build/runtime/chapter.ts";`,
    'const idle = model("idle", () => ({ threads: { A: function* () {} } }));',
    "```", "",
    "```ts test id=tampers",
    'claim({ id: "T1", title: "then tampers with lib/", model: idle, predicate: () => false, expect: "Never" });',
    "const took: string[] = [];",
    "const tries: [string, () => void][] = [",
    '  ["mutations", () => { (mutations as { revisit: boolean }).revisit = true; }],',
    '  ["prototype", () => { (Mutex.prototype as unknown as Record<string, unknown>).tampered = 1; }],',
    '  ["runtime", () => { setRuntime({} as never); }],',
    '  ["guard", () => installGuard()],',
    '  ["progress", () => setProgress(() => { throw new Error("a hook another unit left"); }, () => 0)],',
    '  ["token", () => setReplayToken("bogus")],',
    '  ["gate", () => setClaimGate(() => { throw new Error("a gate another unit left"); })],',
    '  ["sink", () => setClaimSink(null)],',
    "];",
    "for (const [name, t] of tries) { try { t(); took.push(name); } catch { /* hardened */ } }",
    "record({ took });",
    "```", "",
    "```ts test id=throws fails",
    'const boom = model("boom", () => ({ threads: { A: function* () { installGuard(); throw new Error("mid-execution"); } } }));',
    'claim({ id: "T2", title: "throws mid-execution", model: boom, predicate: () => false, expect: "Never" });',
    "```", "",
    "```ts test id=reads",
    "const left: string[] = [];",
    'if (mutations.revisit) left.push("mutations");',
    'if ("tampered" in Mutex.prototype) left.push("prototype");',
    'try { runtime("probe"); left.push("runtime"); } catch { /* no execution: as it should be */ }',
    'try { void Promise.resolve(1); } catch { left.push("guard"); }',
    'if (getProgress() !== null) left.push("progress");',
    'if (replayToken() !== null) left.push("token");',
    'if (getHeartbeat() === null) left.push("heartbeat");',
    "record({ left });",
    'claim({ id: "T3", title: "nothing of another unit is left in lib/", model: idle, predicate: () => left.length > 0, expect: "Never" });',
    "```", "",
  ].join("\n");

  test("tampering, then a throw mid-execution, leave the next unit a clean lib/", async () => {
    const file = writeBook("shared-lib", text);
    const extracts = new Map<string, Extract>([[file, extract(path.relative(ROOT, file), text)]]);
    const runs = await runUnits(new ModuleCompiler(ROOT, extracts), unitsOf(file, extracts.get(file)!), { workers: 1 });
    expect(runs.map((u) => [u.block, u.errors, u.tests.map((t) => [t.state, t.error?.message ?? null])])).toEqual([
      ["tampers", [], [["passed", null]]],
      ["throws", [], [["passed", null]]],
      ["reads", [], [["passed", null]]],
    ]);
    expectCleanHandover(runs);
  });

  /** One worker, so lib/ was linked by the first unit only, and the others shared it; what the
   *  tampering unit could set, it set (hardened objects refused), and none of it reached the reader. */
  function expectCleanHandover(runs: readonly UnitRun[]): void {
    expect(runs[0]!.linkedLib).toBeGreaterThan(10);
    expect(runs.slice(1).map((u) => u.linkedLib)).toEqual([0, 0]);
    const recs = (i: number) => runs[i]!.tests[0]!.meta!.records as Record<string, unknown>[];
    expect(recs(0)).toContainEqual({ took: ["runtime", "guard", "progress", "token", "gate", "sink"] });
    expect(recs(2)).toContainEqual({ left: [] });
    expect((recs(2).find((r) => r.type === "claim") as { observed: string }).observed).toBe("Never");
  }

  // A lane keeps its worker from one chapter to the next (run.ts UnitWorker): the same holds
  // between the units of two chapters. The first chapter's units tamper and throw, and also hang
  // a value on their Compartment's global; the second chapter's unit reads it all back.
  test("a lane's worker runs the next chapter's units with lib/ still linked, and nothing of the last chapter's reaches them", async () => {
    const [head, rest] = [text.slice(0, text.indexOf("```ts test id=tampers")), text.slice(text.indexOf("```ts test id=tampers"))];
    const reads = rest.slice(rest.indexOf("```ts test id=reads"));
    const first = head + rest.slice(0, rest.indexOf("```ts test id=reads")).replace("record({ took });", 'record({ took });\n(globalThis as Record<string, unknown>).leftBy = "the first chapter";');
    const second = head.replace("# Shared lib", "# Reader") + reads.replace("record({ left });", 'if ("leftBy" in globalThis) left.push("global");\nrecord({ left });');
    const dir = path.join(WORK, "two-chapters");
    mkdirSync(dir, { recursive: true });
    const files = [path.join(dir, "01-tampers.md"), path.join(dir, "02-reads.md")];
    writeFileSync(files[0]!, first);
    writeFileSync(files[1]!, second);
    const extracts = new Map<string, Extract>(files.map((f, i) => [f, extract(path.relative(ROOT, f), [first, second][i]!)]));
    const units = files.flatMap((f) => unitsOf(f, extracts.get(f)!));
    const runs = await runUnits(new ModuleCompiler(ROOT, extracts), units, { workers: 1 });
    expect(runs.map((u) => [path.basename(u.file), u.block, u.errors, u.tests.map((t) => [t.state, t.error?.message ?? null])])).toEqual([
      ["01-tampers.md", "tampers", [], [["passed", null]]],
      ["01-tampers.md", "throws", [], [["passed", null]]],
      ["02-reads.md", "reads", [], [["passed", null]]],
    ]);
    // One worker for both chapters: lib/ was linked once, by the first chapter's first unit.
    expectCleanHandover(runs);
  });
});

describe("watch mode keeps its workers from one build to the next", () => {
  // run.ts WorkerPool: the second call's unit runs on the first call's worker (lib/ not linked
  // again), and runs the chapter as edited, not the bundle the worker had.
  test("an edited chapter runs as edited on a kept worker, with lib/ still linked", async () => {
    const pool = new WorkerPool();
    try {
      const once = async (text: string) => {
        const file = writeBook("pool", text);
        const extracts = new Map<string, Extract>([[file, extract(path.relative(ROOT, file), text)]]);
        return (await runUnits(new ModuleCompiler(ROOT, extracts), unitsOf(file, extracts.get(file)!, ["reads-state"]), { workers: 1, pool }))[0]!;
      };
      const observed = (u: Awaited<ReturnType<typeof once>>) => (u.tests[0]!.meta!.records![0] as { observed: string }).observed;
      const before = await once(chapter());
      const after = await once(chapter().replace("let flag = false;", "let flag = true;"));
      expect([before.linkedLib! > 10, observed(before)]).toEqual([true, "Never"]);
      expect([after.linkedLib, observed(after)]).toEqual([0, "Always"]);
    } finally {
      pool.close();
    }
  });

  test("a lib/ edit between two builds is linked afresh on the kept worker", async () => {
    const pool = new WorkerPool();
    try {
      const file = writeBook("pool-lib", chapter());
      const extracts = new Map<string, Extract>([[file, extract(path.relative(ROOT, file), chapter())]]);
      const units = unitsOf(file, extracts.get(file)!, ["reads-state"]);
      const real = new ModuleCompiler(ROOT, extracts);
      const edited = {
        bundleOf(...a: Parameters<ModuleCompiler["bundleOf"]>) {
          const b = real.bundleOf(...a);
          const id = Object.keys(b.modules).find((m) => m.endsWith("lib/explorer/claim.ts"))!;
          return { ...b, modules: { ...b.modules, [id]: { ...b.modules[id]!, code: `${b.modules[id]!.code}\n// saved again` } } };
        },
      } as unknown as ModuleCompiler;
      const [first] = await runUnits(real, units, { workers: 1, pool });
      const [second] = await runUnits(edited, units, { workers: 1, pool });
      const [third] = await runUnits(edited, units, { workers: 1, pool });
      expect([first!.linkedLib! > 10, second!.linkedLib! > 10, third!.linkedLib]).toEqual([true, true, 0]);
      expect([first, second, third].map((u) => u!.tests[0]!.state)).toEqual(["passed", "passed", "passed"]);
    } finally {
      pool.close();
    }
  });
});

describe("the run stage's lanes overlap the type-check on the build's main thread", () => {
  test("a unit's time is the worker's own: a main thread busy meanwhile does not count", async () => {
    const file = writeBook("busy-host", chapter());
    const extracts = new Map<string, Extract>([[file, extract(path.relative(ROOT, file), chapter())]]);
    const one = () => runUnits(new ModuleCompiler(ROOT, extracts), unitsOf(file, extracts.get(file)!, ["reads-state"]), { workers: 1 });
    // Busy for several times what the unit takes with an idle main thread, so that a slow
    // machine only stretches both: the worker's time stays below the busy period, while a time
    // taken here, from the request to reading "done", cannot be shorter than it.
    // A unit that itself took longer than the busy period (a machine slowed down in between)
    // shows nothing either way: then it tries once more with a longer period.
    let took = (await one())[0]!.durationMs;
    let busyMs = 0;
    for (let attempt = 0; attempt < 2; attempt++) {
      busyMs = Math.max(4000, 5 * took);
      const running = one();
      const t0 = performance.now();
      while (performance.now() - t0 < busyMs) { /* the type-check's synchronous stretch */ }
      const [run] = await running;
      expect(run!.tests.map((t) => t.state)).toEqual(["passed"]);
      took = run!.durationMs;
      if (took < busyMs) break;
    }
    expect(took).toBeLessThan(busyMs);
  });

  test("the type-check yields to the event loop after each chapter, so lanes read their workers' messages", async () => {
    const files = ["a.md", "b.md", "c.md"];
    const extracts = new Map(files.map((f) => [f, extract(f, "# " + f + "\n")]));
    const diags = new Map<string, Diagnostic[]>(files.map((f) => [f, []]));
    const events: string[] = [];
    const checker = {
      update: () => {},
      check: (ex: Extract) => { events.push(`check ${ex.file}`); return []; },
    };
    // A lane's callback, queued before the stage starts: it must run before the last chapter.
    setImmediate(() => events.push("lane"));
    await checkChapters(checker, extracts, files, files, diags);
    expect(events).toEqual(["check a.md", "lane", "check b.md", "check c.md"]);
  });
});

describe("a unit's key", () => {
  const keys = (text: string) => {
    const abs = path.join(ROOT, "test-results/units/keys/01-units.md");
    const ex = extract("test-results/units/keys/01-units.md", text);
    const extracts = new Map([[abs, ex]]);
    const cache = new SourceCache(new Map([[abs, text]]));
    return Object.fromEntries(["leaves-state", "reads-state"].map((b) => [b, unitHash(ROOT, ex, b, extracts, "tools", cache).key]));
  };
  const layouts = (text: string) => {
    const abs = path.join(ROOT, "test-results/units/keys/01-units.md");
    const ex = extract("test-results/units/keys/01-units.md", text);
    return unitHash(ROOT, ex, "reads-state", new Map([[abs, ex]]), "tools", new SourceCache(new Map([[abs, text]]))).layout;
  };
  const before = keys(chapter());

  test("an edit to one test block re-keys that block only", () => {
    const after = keys(chapter({ read: 'claim({ id: "U2", title: "renamed", model: idle, predicate: () => flag, expect: "Never" });' }));
    expect(after["leaves-state"]).toBe(before["leaves-state"]);
    expect(after["reads-state"]).not.toBe(before["reads-state"]);
  });

  test("an edit to a definition the blocks reach, above or below them, or to an effectful one, re-keys every block", () => {
    // `flag` is read or written by both blocks; `idle = model(...)` is a call, run for every unit.
    const idle = 'const idle = model("idle", () => ({ threads: { A: function* () {} } }));';
    for (const after of [keys(chapter().replace("let flag = false;", "let flag = true;")), keys(chapter().replace(idle, idle.replace('"idle"', '"idle2"'))), keys(chapter({ defs: "register();" }))]) {
      expect(after["leaves-state"]).not.toBe(before["leaves-state"]);
      expect(after["reads-state"]).not.toBe(before["reads-state"]);
    }
  });

  test("an edit to a definition no block reaches re-keys nothing (build/src/slice.ts)", () => {
    expect(keys(chapter({ defs: "const later = 2;" }))).toEqual(before);
    // …until a block names it.
    const named = keys(chapter({ defs: "const later = 2;", read: 'claim({ id: "U2", title: "sees no other block\'s flag", model: idle, predicate: () => flag && later > 0, expect: "Never" });' }));
    const named1 = keys(chapter({ defs: "const later = 1;", read: 'claim({ id: "U2", title: "sees no other block\'s flag", model: idle, predicate: () => flag && later > 0, expect: "Never" });' }));
    expect(named["reads-state"]).not.toBe(named1["reads-state"]);
    expect(named["leaves-state"]).toBe(named1["leaves-state"]);
  });

  test("prose re-keys nothing, even when it moves the blocks' lines; the layout says where they are", () => {
    expect(keys(chapter({ prose: "Other words, same line." }))).toEqual(before);
    expect(keys(chapter({ prose: "Two lines\nof prose." }))).toEqual(before);
    expect(layouts(chapter({ prose: "Other words, same line." }))).toBe(layouts(chapter()));
    expect(layouts(chapter({ prose: "Two lines\nof prose." }))).not.toBe(layouts(chapter()));
  });

  test("a test block's flags and a definition's place among the blocks are content", () => {
    expect(keys(chapter().replace("```ts test id=reads-state", "```ts test id=reads-state skip"))["reads-state"]).not.toBe(before["reads-state"]);
    // A definition the block reaches, moved from after the test blocks to before the other
    // definitions: the order of what runs differs, and so does the key.
    const read = 'claim({ id: "U2", title: "t", model: idle, predicate: () => flag && later > 0, expect: "Never" });';
    const after = chapter({ read });
    const moved = after.replace("```ts\nconst later = 1;\n```\n", "").replace("# Units", "# Units\n\n```ts\nconst later = 1;\n```");
    expect(keys(moved)["reads-state"]).not.toBe(keys(after)["reads-state"]);
  });
});

describe("the build re-runs only the units whose key changed", () => {
  test("test block edit: that block; prose: none; definition: the blocks that reach it; cached records equal fresh ones", async () => {
    const dir = path.join(WORK, "rebuild");
    rmSync(dir, { recursive: true, force: true });
    const cacheDir = path.join(dir, "cache");
    const file = writeBook("rebuild", chapter());
    const once = async (text: string) => {
      writeFileSync(file, text);
      const ran: string[] = [];
      const out = await build({ root: ROOT, chaptersDir: path.dirname(file), resultsFile: path.join(dir, "results.json"), cacheDir, onUnit: (u) => ran.push(u.block ?? "") });
      return { ran, results: out.results };
    };
    const records = (r: Results) => JSON.stringify(r.chapters[0]!.blocks.map((b) => b.records), (k, v) => (k === "ms" ? undefined : v));
    const first = await once(chapter());
    expect(first.ran.sort()).toEqual(["leaves-state", "reads-state"]);
    expect(first.results.totals.failed).toBe(0);
    const edited = chapter({ read: 'claim({ id: "U2", title: "renamed", model: idle, predicate: () => flag, expect: "Never" });' });
    const second = await once(edited);
    expect(second.ran).toEqual(["reads-state"]);
    // Not the chapter's cache (its key has the prose): both units' records come from theirs.
    const prose = await once(edited.replace("Some prose.", "Other words."));
    expect(prose.ran).toEqual([]);
    expect(prose.results.chapters[0]!.cached).toBe(false);
    expect(records(prose.results)).toBe(records(second.results));
    // Prose that moves every block down two lines: still nothing re-runs, the records are the
    // ones a fresh run makes, and each block's line is where it is now.
    const movedText = edited.replace("Some prose.", "Some prose.\n\nAnd a new paragraph.");
    const moved = await once(movedText);
    expect(moved.ran).toEqual([]);
    const fresh = await build({ root: ROOT, chaptersDir: path.dirname(file), resultsFile: path.join(dir, "fresh.json"), cacheDir: null });
    expect(records(moved.results)).toBe(records(fresh.results));
    expect(moved.results.chapters[0]!.blocks.map((b) => b.line)).toEqual(fresh.results.chapters[0]!.blocks.map((b) => b.line));
    expect(moved.results.chapters[0]!.blocks.map((b) => b.line)).not.toEqual(second.results.chapters[0]!.blocks.map((b) => b.line));
    // A definition no block reaches: nothing re-runs, and the records are a fresh run's.
    const unreached = await once(edited.replace("const later = 1;", "const later = 2;"));
    expect(unreached.ran).toEqual([]);
    const fresh2 = await build({ root: ROOT, chaptersDir: path.dirname(file), resultsFile: path.join(dir, "fresh2.json"), cacheDir: null });
    expect(records(unreached.results)).toBe(records(fresh2.results));
    // One both blocks reach: both re-run.
    expect((await once(edited.replace("let flag = false;", "let flag = false as boolean;"))).ran.sort()).toEqual(["leaves-state", "reads-state"]);
    // Back to the first text: every unit from the cache, the same records as the first run.
    const again = await once(chapter());
    expect(again.ran).toEqual([]);
    expect(records(again.results)).toBe(records(first.results));
  });
});

describe("the order units run in", () => {
  test("the longest chapters first by their previous durations; in watch mode the chapter just saved before them", async () => {
    const a = writeBook("order-a", chapter()), b = writeBook("order-b", chapter());
    const extracts = new Map<string, Extract>([[a, extract(path.relative(ROOT, a), chapter())], [b, extract(path.relative(ROOT, b), chapter())]]);
    const units = [...unitsOf(a, extracts.get(a)!), ...unitsOf(b, extracts.get(b)!)];
    // Chapter a took longer last time; within a chapter, its longer unit goes first.
    const expectedMs = new Map([[`${a}\0leaves-state`, 50], [`${a}\0reads-state`, 90], [`${b}\0leaves-state`, 20], [`${b}\0reads-state`, 10]]);
    const order = async (first?: ReadonlySet<string>) => {
      const ran: string[] = [];
      await runUnits(new ModuleCompiler(ROOT, extracts), units, { workers: 1, expectedMs, first, onUnit: (u) => ran.push(`${path.basename(path.dirname(u.file))}:${u.block}`) });
      return ran;
    };
    expect(await order()).toEqual(["order-a:reads-state", "order-a:leaves-state", "order-b:leaves-state", "order-b:reads-state"]);
    expect(await order(new Set([b]))).toEqual(["order-b:leaves-state", "order-b:reads-state", "order-a:reads-state", "order-a:leaves-state"]);
  });
});

describe("an edit to an imported chapter re-runs only the units that reach what changed (build/src/import-slice.ts)", () => {
  test("unreached: nothing re-runs and the records are a fresh build's; reached: the unit re-runs and its verdict follows", async () => {
    const dir = path.join(WORK, "imported");
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const other = (flag: string, unused: string) => `# Other\n\n\`\`\`ts\nexport function flagOf(): boolean { return ${flag}; }\nexport function unusedHelper(): number { return ${unused}; }\n\`\`\`\n`;
    const units = chapter({ defs: 'import { flagOf, unusedHelper } from "./00-other.md";', read: 'claim({ id: "U2", title: "sees the imported flag", model: idle, predicate: () => flagOf(), expect: "Never" });' });
    writeFileSync(path.join(dir, "01-units.md"), units);
    const once = async (o: string, cacheDir: string | null = path.join(dir, "cache")) => {
      writeFileSync(path.join(dir, "00-other.md"), o);
      const ran: string[] = [];
      const out = await build({ root: ROOT, chaptersDir: dir, resultsFile: path.join(dir, cacheDir ? "results.json" : "fresh.json"), cacheDir, onUnit: (u) => { if (u.file.endsWith("01-units.md")) ran.push(u.block ?? ""); } });
      const ch = out.results.chapters.find((c) => c.file.endsWith("01-units.md"))!;
      return { ran: ran.sort(), status: ch.status, records: JSON.stringify(ch.blocks.map((b) => b.records), (k, v) => (k === "ms" ? undefined : v)) };
    };
    expect((await once(other("false", "1"))).ran).toEqual(["leaves-state", "reads-state"]);
    // `unusedHelper` is imported, but no block reaches it: nothing re-runs…
    const unreached = await once(other("false", "2"));
    expect(unreached.ran).toEqual([]);
    // …and what the build shows is what a build without any cache shows.
    expect(unreached.records).toBe((await once(other("false", "2"), null)).records);
    // `flagOf` is reached by one block only: that block re-runs, and its verdict changes with it.
    const reached = await once(other("true", "2"));
    expect(reached.ran).toEqual(["reads-state"]);
    expect(reached.status).toBe("failed");
    expect(reached.records).toContain('"observed":"Always"');
  });
});

test("the unit cache moves frame paths to the root and back, and leaves records as they are", async () => {
  const { unitFromCache, unitToCache } = await import("../../build/src/unit-cache.ts");
  const chapter = path.join(ROOT, "chapters/04-x.md");
  const u = {
    file: chapter, block: "b", durationMs: 1, errors: [],
    tests: [{ name: "b", state: "failed" as const, durationMs: 1, error: { message: "m", frame: { file: chapter, line: 3, col: 1 } },
      meta: { records: [{ type: "claim", file: "ext4file", at: { file: "lib/x.ts" } }] } }],
  };
  const text = unitToCache(ROOT, u, "L1");
  expect(text).not.toContain(ROOT);
  expect(unitFromCache(ROOT, text)).toEqual({ run: u, layout: "L1" });
});

test("a cached run made at another layout is used only when nothing in it names a line", async () => {
  const { relocated } = await import("../../build/src/unit-cache.ts");
  const chapter = path.join(ROOT, "chapters/04-x.md");
  const passed = { file: chapter, block: "b", durationMs: 1, errors: [], tests: [{ name: "b", state: "passed" as const, durationMs: 1, error: null, meta: { blockId: "b", line: 10, records: [] } }] };
  const failed = { ...passed, tests: [{ ...passed.tests[0]!, state: "failed" as const, error: { message: "m", frame: { file: chapter, line: 12, col: 1 } } }] };
  const at = (line: number) => () => line;
  expect(relocated({ run: passed, layout: "A" }, "A", at(20))).toBe(passed);
  expect(relocated({ run: passed, layout: "A" }, "B", at(20))!.tests[0]!.meta!.line).toBe(20);
  expect(relocated({ run: failed, layout: "A" }, "A", at(20))).toBe(failed);
  expect(relocated({ run: failed, layout: "A" }, "B", at(20))).toBeNull();
  expect(relocated({ run: { ...passed, errors: [{ message: "load", frame: null }] }, layout: "A" }, "B", at(20))).toBeNull();
  // A record that names a chapter line (a caught error's stack) is not moved either.
  const withLine = { ...passed, tests: [{ ...passed.tests[0]!, meta: { blockId: "b", line: 10, records: [{ note: "at chapters/04-x.md:12:3" }] } }] };
  expect(relocated({ run: withLine, layout: "A" }, "B", at(20))).toBeNull();
  const withDefsLine = { ...passed, tests: [{ ...passed.tests[0]!, meta: { blockId: "b", line: 10, records: [{ note: "chapters/04-x.md?defs:341" }] } }] };
  expect(relocated({ run: withDefsLine, layout: "A" }, "B", at(20))).toBeNull();
});
