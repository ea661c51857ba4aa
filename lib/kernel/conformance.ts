// One conformance harness for userptr designs built on MMU notifiers (kernel-semantics §17, the
// interval-notifier protocol; §29, the S2 family of scenarios). "More shared code": a new design
// is checked with one call, against the same scenarios and the same invariants as every other.
//
// A design is given as a factory `(k, mm) => ConformanceBuffer`: a userptr buffer over the first
// page(s) of `mm` that a thread can create, bind, submit a job writing it, and wait for. The
// harness builds one small model per call: thread CS runs create → bind → submit → wait; thread MM
// picks one mm operation with choose() (the explorer tries each) and runs it against the buffer:
//
//   munmap    munmap of the buffer's pages (mmap_lock for write; a downgrade in newer eras)
//   dontneed  MADV_DONTNEED (mmap_lock for read: overlaps page collection)
//   mprotect  mprotect(PROT_READ)
//   fork      fork into a child mm, then the parent writes page 0 (COW in the parent)
//   oom       the OOM reaper reaps the mm (now: mmu_notifier_invalidate_range_start_nonblock);
//             not in the default list, chosen by the contract claims
//
// With `rogue: true` the CS thread also submits, after its own job, a job in the same GPU VM that
// writes the buffer's VA without listing the buffer (chapter 06's SC06d shape, chapter 07's rogue
// submission): (c) is then also asked of a job the callback was never told about.
//
// The invariants are predicates over the kernel's findings (lib/kernel/README.md "Oracles"):
//
//   same-lock            (a) set_seq and read_retry under one lock: no `notifier-protocol`
//   install-after-retry  (b) no job runs on a translation installed without a passing retry: no
//                        `stale-access` (a device write to a frame the CPU no longer maps there)
//                        through a mapping installed after the invalidation of the page began
//                        (data.predatesInvalidation false), and no `cross-mm-write` (the device
//                        writes a frame only another mm maps).
//                        `stale-install` itself is not the predicate: it also flags a translation
//                        that is installed and then refused by the retry before any job uses it
//                        (i915 v5.13 to v6.18 binds first and checks at submission), and one installed
//                        before the callback ran and left idle behind it (amdgpu today leaves its
//                        PTEs to the next submission: chapter 07's leaked mapping).
//   idle-before-return   (c) the device is idle before the callback returns: no `stray-write`
//                        (a write through a mapping older than the callback's return, including
//                        one in flight when the mapping was torn down) or `stray-read`, no `userptr-fault` (the
//                        design's own job lost its userptr translation mid-job), no `uaf`
//                        with data.via "device" (a device access to a freed frame), and no
//                        `stale-access` through a mapping that predates the invalidation (the
//                        callback let the device run on past the CPU PTE change; this is how a
//                        design whose callback runs at range_end, or is not tracked, shows)
//
//   nonblocking          (d) a non-blockable invalidation (the OOM reaper's) does not sleep in the
//                        callback (it returns false / -EAGAIN instead): no `sleep-in-atomic`
//                        raised inside a non-blockable callback (data.nonBlock > 0)
//   set-seq              (e) a successful invalidate moved the subscription's sequence: no
//                        `set-seq-skipped` (mmu-notifier.ts; include/linux/mmu_notifier.h: "must
//                        be called unconditionally from the invalidate callback")
//   no-reclaim-under-lock (f) no allocation that may enter direct reclaim under a lock the
//                        callback takes: no `lockdep` cycle through the notifier's lockdep map
//                        (v5.11+ lockdep: every reclaiming allocation touches that map, so the
//                        report needs only both orders, in any executions of the model)
//
// Each invariant is one check() (or claim()) result with labels { design, era, invariant }, all
// decided by one search of the model (checkAll/claimAll, lib/explorer/group.ts). "Never" is
// what a conforming design shows on each. Each invariant's predicate reads a fixed set of finding
// kinds (READS); the claims declare them (ClaimSpec.reads), so the kernel attaches only the oracles
// that report those kinds (oracle-probes.ts): stale-install's and dirty-after-return's bookkeeping,
// which no invariant reads, adds no dependency between steps here. Models stay small: 2 driver-side threads (plus the
// design's own job and worker threads), 1–2 pages.

import { model, checkAll, claimAll, choose, Completion, type ClaimResult, type Evidence, type Expectation, type ExecutionView, type Yieldable } from "../explorer/index.ts";
import type { SearchSpec, Budget } from "../explorer/config.ts";
import { boot, type Kernel } from "./kernel.ts";
import type { Era } from "./era.ts";
import { mm_alloc, mmap_region, type Mm } from "./mm.ts";
import { populate } from "./populate.ts";
import { munmap } from "./munmap.ts";
import { madvise_dontneed } from "./madvise.ts";
import { mprotect, PROT_READ } from "./mprotect.ts";
import { fork } from "./fork.ts";
import { user_write } from "./user.ts";
import { oom_reap_task } from "./oom.ts";
import { NOTIFIER_MAP } from "./lockdep.ts";
import { deviceUaf } from "./oracles.ts";

type Gen<T> = Generator<Yieldable, T, unknown>;

/** What a design offers the harness: one userptr buffer over pages [0, pages) of the mm. */
export interface ConformanceBuffer {
  /** The ioctl that creates the userptr object (and, for some designs, registers its notifier). 0 or -errno. */
  create?(): Gen<number>;
  /** Take the pages where the design does so outside a submission (VALIDATE, register). 0 or -errno. */
  bind?(): Gen<number>;
  /** A submission whose job writes the buffer. 0 if a job was submitted, else -errno. */
  submit(name: string): Gen<number>;
  /** Wait for the buffer's last job. */
  wait(): Gen<void>;
  /** A submission in the same GPU VM whose job writes the buffer's VA and lists no buffer. 0 or -errno. */
  rogue?(name: string): Gen<number>;
}

/** Build the design on a fresh kernel and process (called in the model's setup, once per execution). */
export type ConformanceFactory = (k: Kernel, mm: Mm, pages: number) => ConformanceBuffer;

export type ConformanceScenario = "munmap" | "dontneed" | "mprotect" | "fork" | "oom";
export const CONFORMANCE_SCENARIOS: readonly ConformanceScenario[] = Object.freeze(["munmap", "dontneed", "mprotect", "fork"]);

/** The default search: every schedule with at most two preemptions (bounded coverage, stated in each result). */
export const CONFORMANCE_SEARCH: SearchSpec = Object.freeze({ strategy: "bounded", preemptions: 2 });

export type Invariant = "same-lock" | "install-after-retry" | "idle-before-return" | "nonblocking" | "set-seq" | "no-reclaim-under-lock";
/** The default invariants: kernel-semantics §17's three. */
export const INVARIANTS: readonly Invariant[] = Object.freeze(["same-lock", "install-after-retry", "idle-before-return"]);
/** The contract's other rules (include/linux/mmu_notifier.h), decided on the "munmap" and "oom" scenarios. */
export const CONTRACT: readonly Invariant[] = Object.freeze(["nonblocking", "set-seq", "no-reclaim-under-lock"]);

/** What the model reports at the end of an execution. */
export interface ConformanceFinal {
  /** The mm operation the MM thread ran. */
  scenario: ConformanceScenario | null;
  /** The submission returned 0: a job was pushed. */
  submitted: boolean;
}

type View = ExecutionView<ConformanceFinal>;
/** A device write to a frame the CPU no longer maps there, through a mapping installed after (false) or before (true) the invalidation began. */
const staleAccess = (e: View, predates: boolean) => e.findingsOf("stale-access").some((f) => ((f.data as { predatesInvalidation?: boolean } | undefined)?.predatesInvalidation === true) === predates);
const sleepsNonBlocking = (e: View) => e.findingsOf("sleep-in-atomic").some((f) => ((f.data as { nonBlock?: number } | undefined)?.nonBlock ?? 0) > 0);
const reclaimCycle = (e: View) => e.findingsOf("lockdep").some((f) => ((f.data as { cycle?: string[] } | undefined)?.cycle ?? []).includes(NOTIFIER_MAP));

/** The invariants as predicates: true = the invariant is broken in this execution. */
export const VIOLATES: Readonly<Record<Invariant, (e: View) => boolean>> = Object.freeze({
  "same-lock": (e) => e.has("notifier-protocol"),
  "install-after-retry": (e) => staleAccess(e, false) || e.has("cross-mm-write"),
  "idle-before-return": (e) => e.has("stray-write") || e.has("stray-read") || e.has("userptr-fault") || deviceUaf(e) || staleAccess(e, true),
  nonblocking: sleepsNonBlocking,
  "set-seq": (e) => e.has("set-seq-skipped"),
  "no-reclaim-under-lock": reclaimCycle,
});

/** The finding kinds each invariant's predicate reads (ClaimSpec.reads): the oracles a conformance
 *  search attaches (lib/kernel/oracle-probes.ts). A predicate that read another kind would throw. */
export const READS: Readonly<Record<Invariant, readonly string[]>> = Object.freeze({
  "same-lock": Object.freeze(["notifier-protocol"]),
  "install-after-retry": Object.freeze(["stale-access", "cross-mm-write"]),
  "idle-before-return": Object.freeze(["stray-write", "stray-read", "userptr-fault", "uaf", "stale-access"]),
  nonblocking: Object.freeze(["sleep-in-atomic"]),
  "set-seq": Object.freeze(["set-seq-skipped"]),
  "no-reclaim-under-lock": Object.freeze(["lockdep"]),
});

const TITLES: Readonly<Record<Invariant, string>> = Object.freeze({
  "same-lock": "set_seq and read_retry under one lock (no notifier-protocol finding)",
  "install-after-retry": "no job runs on a translation installed without a passing retry (no unchecked stale access, no cross-mm write)",
  "idle-before-return": "the device is idle before the callback returns (no stray write, no userptr fault, no device access to a freed frame)",
  nonblocking: "a non-blockable invalidation (OOM reaper) does not sleep in the callback",
  "set-seq": "every successful invalidate calls mmu_interval_set_seq",
  "no-reclaim-under-lock": "no allocation that may reclaim under a lock the callback takes (no lockdep cycle through the notifier map)",
});

export interface ConformanceOptions {
  /** The design's name (label `design`, model name). */
  readonly design: string;
  readonly era: Era;
  /** Label `era`; default "2018" for an era without mmu_interval_notifier, else "now". */
  readonly eraLabel?: "2018" | "now";
  /** Claim id of every result (e.g. "C13.1-mni-now"). */
  readonly id?: string;
  /** Scenarios the MM thread chooses from; default all four. */
  readonly scenarios?: readonly ConformanceScenario[];
  /** Pages of the buffer (1 or 2); default 1. */
  readonly pages?: 1 | 2;
  /** Also submit a job that writes the buffer's VA without listing the buffer (needs ConformanceBuffer.rogue). */
  readonly rogue?: boolean;
  /** mmu_gather batch (1 = a full gather flushes and frees inside the zap, before range_end). Default: the kernel's. */
  readonly gatherBatch?: number;
  /** Expected verdict per invariant; default "Never" for each. */
  readonly expect?: Partial<Record<Invariant, Expectation>>;
  /** Which invariants to decide; default all three. */
  readonly invariants?: readonly Invariant[];
  /** Search of every claim; default CONFORMANCE_SEARCH (at most 2 preemptions: a quick first look at a new design; chapter 13's C13.1 blocks each ask for every schedule). */
  readonly search?: SearchSpec;
  readonly budget?: Budget;
  /** "check" (default): never throws. "claim": throws ClaimError when a verdict differs from `expect`. */
  readonly mode?: "check" | "claim";
  /** The kernels and commits (or files read) every claim's verdict rests on (lib/explorer/evidence.ts). */
  readonly evidence?: Evidence;
}

export interface ConformanceReport {
  readonly design: string;
  readonly era: "2018" | "now";
  /** One result per invariant decided, in INVARIANTS order. */
  readonly results: Readonly<Partial<Record<Invariant, ClaimResult>>>;
  /** Invariants observed broken (Sometimes or Always). */
  readonly broken: readonly Invariant[];
  /** Every invariant decided was observed Never (with exhaustive or bounded coverage). */
  readonly conforms: boolean;
}

function* runScenario(k: Kernel, mm: Mm, child: Mm, how: ConformanceScenario, pages: number): Gen<void> {
  if (how === "munmap") yield* munmap(k, mm, 0, pages);
  else if (how === "dontneed") yield* madvise_dontneed(k, mm, 0, pages);
  else if (how === "mprotect") yield* mprotect(k, mm, 0, pages, PROT_READ);
  else if (how === "oom") yield* oom_reap_task(k, mm, 1);
  else {
    yield* fork(k, mm, child);
    yield* user_write(k, mm, 0);
  }
}

// The threads are module-level function* called from arrows, not generator functions made per
// execution: V8 gives each such function a fresh map when first called (README.md, "Speed").

/** CS: create the userptr object, bind it, submit a job that lists it (and a rogue one), wait. */
function* conformanceCS(buf: ConformanceBuffer, created: Completion, out: ConformanceFinal, rogue: boolean): Gen<void> {
  const r = buf.create ? yield* buf.create() : 0;
  yield* created.complete();
  if (r !== 0) return;
  if (buf.bind && (yield* buf.bind()) !== 0) return;
  const r2 = yield* buf.submit("J");
  if (rogue) yield* buf.rogue!("R");
  if (r2 !== 0) return;
  out.submitted = true;
  yield* buf.wait();
}

/** MM: once the object exists, one mm operation (chosen when there are several). */
function* conformanceMM(k: Kernel, mm: Mm, child: Mm, created: Completion, scenarios: readonly ConformanceScenario[], pages: number, out: ConformanceFinal): Gen<void> {
  yield* created.wait();
  const how = scenarios.length === 1 ? scenarios[0] : yield* choose("mm operation", scenarios);
  out.scenario = how;
  yield* runScenario(k, mm, child, how, pages);
}

/** The harness's model for one design and era: CS (create, bind, submit, wait) against a chosen mm operation. */
export function conformanceModel(factory: ConformanceFactory, o: Pick<ConformanceOptions, "design" | "era" | "scenarios" | "pages" | "gatherBatch" | "rogue">) {
  const scenarios = o.scenarios ?? CONFORMANCE_SCENARIOS;
  if (scenarios.length === 0) throw new Error("conformance: no scenario to run; pass at least one of munmap, dontneed, mprotect, fork.");
  const pages = o.pages ?? 1;
  const tag = `${scenarios.join("|")}, ${pages} page${pages > 1 ? "s" : ""}${o.gatherBatch !== undefined ? `, gather ${o.gatherBatch}` : ""}${o.rogue ? ", rogue job" : ""}`;
  return model(`conformance ${o.design} (${o.era.name}; ${tag})`, () => {
    const k = boot(o.era, o.gatherBatch !== undefined ? { gatherBatch: o.gatherBatch } : {});
    const mm = mm_alloc(k, 4, "proc"), child = mm_alloc(k, 4, "child");
    mmap_region(mm, 0, pages);
    populate(k, mm, 0, pages);
    const buf = factory(k, mm, pages);
    if (o.rogue && !buf.rogue) throw new Error(`conformance ${o.design}: rogue: true, but the design offers no rogue submission`);
    // Registration is not under test: the mm operation starts once the userptr object exists.
    // (In the kernel an mm's first mmu_interval_notifier_insert takes mmap_lock for write, which
    // the model's insert does not; see mmu-notifier.ts.)
    const created = new Completion("userptr created");
    const out: ConformanceFinal = { scenario: null, submitted: false };
    return {
      threads: {
        CS: () => conformanceCS(buf, created, out, o.rogue === true),
        MM: () => conformanceMM(k, mm, child, created, scenarios, pages, out),
      },
      final: () => ({ ...out }),
    };
  });
}

/**
 * Run the design through the harness: one claim result per invariant, labelled
 * { design, era, invariant }. A conforming design is Never on every invariant.
 */
export function conformance(factory: ConformanceFactory, o: ConformanceOptions): ConformanceReport {
  const era = o.eraLabel ?? (o.era.intervalNotifier ? "now" : "2018");
  const m = conformanceModel(factory, o);
  // A claim's title says no more than its search explores: name the scenarios unless all four ran.
  const only = o.scenarios && o.scenarios.join() !== CONFORMANCE_SCENARIOS.join() ? `; ${o.scenarios.join(", ")} only` : "";
  const results: Partial<Record<Invariant, ClaimResult>> = {};
  const broken: Invariant[] = [];
  let conforms = true;
  const invariants = o.invariants ?? INVARIANTS;
  // Every invariant declares the kinds all of them read, so that they still share one search
  // (searchKey includes reads), and each is refused any kind none of them reads.
  const reads = [...new Set(invariants.flatMap((inv) => READS[inv]))];
  const specs = invariants.map((inv) => ({
    ...(o.id ? { id: o.id } : {}),
    title: `${o.design} (${era}${only}): ${TITLES[inv]}${inv === "idle-before-return" ? (o.rogue ? ", for a job that does not list the buffer too" : ", for the jobs that list the buffer") : ""}`,
    model: m,
    predicate: VIOLATES[inv],
    reads,
    expect: o.expect?.[inv] ?? "Never",
    search: o.search ?? CONFORMANCE_SEARCH,
    ...(o.budget ? { budget: o.budget } : {}),
    labels: { design: o.design, era, invariant: inv },
    ...(o.evidence ? { evidence: o.evidence } : {}),
  }));
  // One search for every invariant (lib/explorer/group.ts): each result is what its own search
  // would give, and in "claim" mode the first failing invariant throws, as before.
  const rs = (o.mode === "claim" ? claimAll : checkAll)(specs);
  invariants.forEach((inv, i) => {
    const r = rs[i];
    results[inv] = r;
    if (r.observed === "Sometimes" || r.observed === "Always") broken.push(inv);
    if (r.observed !== "Never") conforms = false;
  });
  return { design: o.design, era, results, broken, conforms };
}
