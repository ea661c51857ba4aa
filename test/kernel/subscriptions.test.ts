// Oracle subscriptions (lib/explorer/subscriptions.ts, lib/kernel/oracle-probes.ts): a search whose
// claims declare `reads` runs a kernel with only the oracles that report those kinds attached.
// Sound only if, for the declared kinds, DPOR on that kernel reaches exactly the outcomes naive DFS
// reaches with every oracle on, and if an oracle left out changes no thread's schedule. Both are
// checked here on two programs where the oracles' ghost state matters:
//  - fork / munmap / mprotect against a userptr job that maps the page, writes it and dirties it
//    (stale-install, dirty-after-return, stray-write, stale-access, ro-write all fire in some schedules);
//  - two invalidations of one page against a device that installs its translation and writes.
// The planted `oracle-half-attached` (dirty-after-return attached without the in-flight count it
// reads) must make the first check fail: the mutation test that keeps it able to fail.
import { describe, expect, it } from "vitest";
import { check, choose, model, type ExecutionView, type Model } from "../../lib/explorer/index.ts";
import { exploreDpor } from "../../lib/explorer/dpor.ts";
import { replay } from "../../lib/explorer/replay.ts";
import { subscribedModel } from "../../lib/explorer/subscriptions.ts";
import { encodeToken } from "../../lib/explorer/token.ts";
import { DEFAULT_MAX_STEPS } from "../../lib/explorer/config.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import { ENOW } from "../../lib/kernel/era.ts";
import { mm_alloc, mmap_region } from "../../lib/kernel/mm.ts";
import { populate } from "../../lib/kernel/populate.ts";
import { munmap } from "../../lib/kernel/munmap.ts";
import { fork } from "../../lib/kernel/fork.ts";
import { user_write } from "../../lib/kernel/user.ts";
import { set_page_dirty } from "../../lib/kernel/gup.ts";
import { MmuNotifier, mmu_notifier_register_at_setup } from "../../lib/kernel/mmu-notifier.ts";
import { deviceMapInstalled, deviceMapRemoved, deviceWrite } from "../../lib/kernel/oracles.ts";
import { mprotect, PROT_READ } from "../../lib/kernel/mprotect.ts";
import { installStamp, NO_STAMP, trackNotifier, type InstallStamp } from "../../lib/kernel/device-oracles.ts";
import { invalidationsVsInstall } from "./invalidations-vs-install.ts";
import { trace } from "../../lib/kernel/tracepoints.ts";
import type { Kernel } from "../../lib/kernel/kernel.ts";
import type { Mm } from "../../lib/kernel/mm.ts";
import type { PlantedBug } from "../../lib/kernel/planted.ts";

/** A userptr job on mm:0: map what the CPU maps now, write through it, dirty the page, unmap. */
function* job(k: Kernel, mm: Mm, pfn0: number, d: { stamp: InstallStamp; pfn: number; gen: number }) {
  yield* k.mem.fieldStep("J: map", "w", () => {
    d.stamp = installStamp(k, mm, 0);
    d.pfn = mm.cpuPfn(0);
    d.gen = d.pfn >= 0 ? k.mem.gen[d.pfn] : 0;
    if (d.pfn >= 0) deviceMapInstalled(k, mm, 0, d.pfn, "job");
  });
  yield* k.mem.fieldStep("J: write", "w", () => {
    if (d.pfn < 0) return;
    trace(k, "gpu_dma", { who: "job", write: true, owner: { mm, vpn: 0 }, stamp: d.stamp, pfn: d.pfn });
    deviceWrite(k, { mm, vpn: 0, pfn: d.pfn, gen: d.gen, who: "job" });
  });
  // The job's GUP reference (taken at setup) keeps the frame: set_page_dirty after the unmap.
  yield* set_page_dirty(k, pfn0);
  yield* k.mem.fieldStep("J: unmap", "w", () => {
    if (d.pfn >= 0) deviceMapRemoved(k, mm, 0, d.pfn);
  });
}

function* mmOp(k: Kernel, mm: Mm, child: Mm) {
  const how = yield* choose("mm operation", ["munmap", "fork", "mprotect"]);
  if (how === "munmap") yield* munmap(k, mm, 0, 1);
  else if (how === "mprotect") yield* mprotect(k, mm, 0, 1, PROT_READ);
  else {
    yield* fork(k, mm, child);
    yield* user_write(k, mm, 0);
  }
}

const forkMunmapVsJob = (planted: readonly PlantedBug[] = []) =>
  model(`fork/munmap/mprotect vs a userptr job${planted.length ? ` (planted ${planted.join(", ")})` : ""}`, () => {
    const k = boot(ENOW, { planted });
    const mm = mm_alloc(k, 2, "proc"), child = mm_alloc(k, 2, "child");
    mmap_region(mm, 0, 1);
    const [pfn0] = populate(k, mm, 0, 1);
    k.mem.getPage(pfn0);
    mmu_notifier_register_at_setup(new MmuNotifier(trackNotifier(k, { name: "drv", *invalidate_range_start() {} })), mm);
    const d: { stamp: InstallStamp; pfn: number; gen: number } = { stamp: NO_STAMP, pfn: -1, gen: 0 };
    return {
      threads: { MM: () => mmOp(k, mm, child), J: () => job(k, mm, pfn0, d) },
      final: () => [mm.cpuPfn(0), child.cpuPfn(0), k.mem.freeCount()],
    };
  });

/** The subscriptions tried: each oracle alone, pairs that share state, none, and a mechanics kind. */
const SUBSCRIPTIONS: readonly (readonly string[])[] = [
  [], ["stale-install"], ["dirty-after-return"], ["stale-access"], ["stray-write"], ["stray-read"],
  ["stale-install", "dirty-after-return"], ["stray-write", "stale-access"], ["uaf"], ["ro-write"], ["cross-mm-write"],
];

type Search = { strategy: "dfs" | "dpor"; fields?: boolean; optimal?: boolean };

/** An execution's outcome restricted to the kinds `reads`: final state and those findings. */
const outcomeOf = (final: unknown, findings: readonly { kind: string; message: string; data?: unknown }[]) =>
  `${JSON.stringify(final)} ${findings.map((f) => `${f.kind}: ${f.message} ${JSON.stringify(f.data ?? null)}`).sort().join(" | ")}`;

/** Naive DFS with every oracle on: the outcome set restricted to each subscription. */
function dfsOutcomes(m: Model<unknown>): { sets: string[][]; n: number } {
  const sets = SUBSCRIPTIONS.map(() => new Set<string>());
  const r = check({
    title: "dfs", model: m, expect: "Never", search: { strategy: "dfs" },
    predicate: (e) => {
      SUBSCRIPTIONS.forEach((s, i) => sets[i].add(outcomeOf(e.final, e.findings.filter((f) => s.includes(f.kind)))));
      return false;
    },
  });
  expect(r.complete).toBe(true);
  return { sets: sets.map((s) => [...s].sort()), n: r.stats.executions };
}

/** DPOR whose claim reads `reads` only: its outcome set (read through the restricted view). */
function subscribedOutcomes(m: Model<unknown>, reads: readonly string[], search: Search): { set: string[]; n: number } {
  const set = new Set<string>();
  const r = check({
    title: `${JSON.stringify(search)} reads ${reads.join(",")}`, model: m, expect: "Never", search, reads,
    predicate: (e: ExecutionView) => {
      set.add(outcomeOf(e.final, reads.flatMap((k) => e.findingsOf(k))));
      return false;
    },
  });
  expect(r.complete).toBe(true);
  return { set: [...set].sort(), n: r.stats.executions };
}

const FIELDS: Search = { strategy: "dpor", fields: true };
const ALL_DPOR: readonly Search[] = [{ strategy: "dpor" }, FIELDS, { strategy: "dpor", optimal: true }];

/**
 * The check itself: every subscription, against DFS with every oracle on. Field footprints on every
 * subscription (the ghost state changes their dependencies); `others` (whole-memory footprints,
 * where it changes none) on the subscriptions listed in `othersOn`.
 */
function sameOutcomes(m: Model<unknown>, dfs: { sets: string[][] }, others: readonly Search[], othersOn: (reads: readonly string[]) => boolean): { mismatches: string[]; n: Map<string, number> } {
  const mismatches: string[] = [];
  const n = new Map<string, number>();
  SUBSCRIPTIONS.forEach((reads, i) => {
    for (const search of [FIELDS, ...(othersOn(reads) ? others.filter((s) => s !== FIELDS) : [])]) {
      const d = subscribedOutcomes(m, reads, search);
      n.set(`${JSON.stringify(search)} [${reads.join(", ")}]`, d.n);
      if (JSON.stringify(d.set) !== JSON.stringify(dfs.sets[i])) mismatches.push(`${JSON.stringify(search)} reads [${reads.join(", ")}]: ${d.set.length} outcomes, DFS ${dfs.sets[i].length}`);
    }
  });
  return { mismatches, n };
}

/** Every execution of DPOR subscribed to `reads`, replayed with every oracle on: the same steps. */
function replaysIdentically(m: Model<unknown>, reads: readonly string[]): number {
  const sub = subscribedModel(m, [{ title: "replay", reads }]);
  const tokens: string[] = [];
  exploreDpor({ model: sub, config: { fields: true }, maxSteps: DEFAULT_MAX_STEPS, ran: () => {}, outOfBudget: () => false, visit: (x) => (tokens.push(encodeToken(x.decisions)), true) });
  for (const t of tokens) {
    const a = replay(sub, t), b = replay(m, t);
    const steps = (r: typeof a) => r.trace.map((e) => `${e.step} ${e.thread} ${e.label}`);
    expect(b.note, t).toBeUndefined();
    expect(steps(b), t).toEqual(steps(a));
    expect([b.status, JSON.stringify(b.final)], t).toEqual([a.status, JSON.stringify(a.final)]);
    // Every finding the subscribed run reported is in the full one; the full one adds only kinds not read.
    const key = (f: { kind: string; message: string }) => `${f.kind}: ${f.message}`;
    expect(b.findings.filter((f) => reads.includes(f.kind)).map(key), t).toEqual(a.findings.filter((f) => reads.includes(f.kind)).map(key));
  }
  return tokens.length;
}

describe("oracle subscriptions: DPOR with oracles left out ≡ DFS with every oracle on, on the kinds read", () => {
  it("fork / munmap / mprotect vs a userptr job", () => {
    const m = forkMunmapVsJob();
    const dfs = dfsOutcomes(m);
    // Not vacuous: each oracle left out fires in some schedule with every oracle on.
    const all = dfs.sets.flat().join("\n");
    for (const f of ["stale-install", "dirty-after-return", "stray-write", "stale-access", "ro-write", "cross-mm-write"]) expect(all, f).toContain(f);
    const r = sameOutcomes(m, dfs, [{ strategy: "dpor" }], (reads) => reads.length === 0 || reads.join() === "dirty-after-return");
    expect(r.mismatches).toEqual([]);
    // The point of it: field footprints run fewer executions with nothing read than with every oracle on.
    const full = check({ title: "all", model: m, expect: "Never", search: FIELDS, predicate: () => false }).stats.executions;
    expect(r.n.get(`${JSON.stringify(FIELDS)} []`)).toBeLessThan(full);
  });

  it("two invalidations of one page vs a device install", () => {
    const dfs = dfsOutcomes(invalidationsVsInstall);
    const all = dfs.sets.flat().join("\n");
    for (const f of ["stale-install", "stray-write", "stray-read", "\"predatesInvalidation\":true", "\"predatesInvalidation\":false"]) expect(all, f).toContain(f);
    expect(sameOutcomes(invalidationsVsInstall, dfs, ALL_DPOR, () => true).mismatches).toEqual([]);
  });

  it("an oracle left out changes no schedule: every subscribed execution replays step for step with every oracle on", () => {
    for (const reads of [[], ["dirty-after-return"], ["stale-access"]]) {
      expect(replaysIdentically(forkMunmapVsJob(), reads)).toBeGreaterThan(0);
      expect(replaysIdentically(invalidationsVsInstall, reads)).toBeGreaterThan(0);
    }
  });

  it("cross-mm-write, which reads every PTE, orders a device write against an unrelated fault only when read", () => {
    // (mappers scans an mm's PTEs up to the first that maps the frame: the fault is on an earlier page.)
    const m = model("a fault on page 0 vs a device write to page 1", () => {
      const k = boot(ENOW);
      const mm = mm_alloc(k, 2, "proc");
      mmap_region(mm, 0, 2);
      const [pfn1] = populate(k, mm, 1, 1);
      return {
        threads: {
          M: () => user_write(k, mm, 0),
          J: function* () {
            yield* k.mem.fieldStep("J: write", "w", () => void deviceWrite(k, { mm, vpn: 1, pfn: pfn1, gen: k.mem.gen[pfn1], who: "job" }));
          },
        },
        final: () => [mm.cpuPfn(0), mm.cpuPfn(1), k.mem.freeCount()],
      };
    });
    const n = (reads: readonly string[]) => check({ title: "x", model: m, expect: "Never", search: FIELDS, reads, predicate: () => false }).stats.executions;
    expect(n([])).toBeLessThan(n(["cross-mm-write"]));
  });

  it("mutation: with dirty-after-return attached without the in-flight count it reads (planted oracle-half-attached), the check fails", () => {
    const m = forkMunmapVsJob(["oracle-half-attached"]);
    const r = sameOutcomes(m, dfsOutcomes(m), [], () => false);
    expect(r.mismatches.some((s) => s.includes("reads [dirty-after-return]"))).toBe(true);
    expect(r.mismatches.every((s) => s.includes("dirty-after-return"))).toBe(true);
  });
});

