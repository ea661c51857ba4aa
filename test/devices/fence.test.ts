// dma_fence and dma_resv contracts, signalling-section oracles, and S5 (kernel-semantics §22,
// §23, §27, §29): the job-completion path allocates, reclaim runs a shrinker that waits for that
// very fence.
import { describe, expect, it } from "vitest";
import { check, claim, model, SharedVar } from "../../lib/explorer/index.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import { E18, ENOW, type Era } from "../../lib/kernel/era.ts";
import { GFP_KERNEL, GFP_NOFS, GFP_NOWAIT, gfpName } from "../../lib/kernel/gfp.ts";
import { register_shrinker } from "../../lib/kernel/shrinker.ts";
import { mightSleep } from "../../lib/kernel/task.ts";
import { dev_kmalloc, fenceLiveness } from "../../lib/kernel/device-oracles.ts";
import { dma_fence_add_callback, dma_fence_begin_signalling, dma_fence_end_signalling, dma_fence_init, dma_fence_publish, dma_fence_signal, dma_fence_wait, dma_fence_wait_timeout, EINVAL, ENOENT, ETIME, type DmaFence } from "../../lib/kernel/dma-fence.ts";
import { dma_resv_add_fence, dma_resv_init, dma_resv_lock, dma_resv_lockdep, dma_resv_reserve_fences, dma_resv_unlock, dma_resv_test_signaled, dma_resv_wait_timeout, reservation_object_add_excl_fence, reservation_object_add_shared_fence, reservation_object_reserve_shared, reservation_object_wait_timeout_rcu } from "../../lib/kernel/dma-resv.ts";
import { drm_sched_entity_push_job, drm_sched_job_init, gpu_engine, gpu_job } from "../../lib/kernel/gpu.ts";
import { gpuvm_create } from "../../lib/kernel/gpu-vm.ts";
import { dma_device } from "../../lib/kernel/dma-mapping.ts";

describe("dma_fence contract", () => {
  it("one-shot: a second signal returns -EINVAL; add_callback after signal returns -ENOENT; callbacks run once, atomic", () => {
    const m = model("fence one-shot", () => {
      const k = boot(ENOW);
      const f = dma_fence_init(k, "f");
      const out: number[] = [];
      let ran = 0;
      return {
        threads: {
          A: function* () {
            out.push(yield* dma_fence_add_callback(k, f, () => { ran++; mightSleep(k.current(), "sleeping in a fence callback"); }));
            out.push(yield* dma_fence_signal(k, f));
            out.push(yield* dma_fence_signal(k, f));
            out.push(yield* dma_fence_add_callback(k, f, () => ran++));
          },
        },
        final: () => ({ out, ran }),
      };
    });
    claim({ title: "results", model: m, predicate: (e) => e.final.out.join() === [0, 0, EINVAL, ENOENT].join() && e.final.ran === 1, expect: "Always" });
    claim({ title: "callback under fence->lock cannot sleep", model: m, predicate: (e) => e.has("sleep-in-atomic"), expect: "Always" });
  });

  it("a wait returns only after the signal; waiting for a fence nobody signals deadlocks", () => {
    const m = (signal: boolean) => model("fence wait", () => {
      const k = boot(E18);
      const f = dma_fence_init(k, "f");
      const seen = new SharedVar("seen", false);
      return {
        threads: {
          W: function* () { yield* dma_fence_wait(k, f); yield* seen.write(true); },
          S: function* () { if (signal) yield* dma_fence_signal(k, f); },
        },
        final: () => seen.peek() && f.isSignaled(),
      };
    });
    claim({ title: "wait then signalled", model: m(true), predicate: (e) => e.final === true, expect: "Always" });
    claim({ title: "no signaller", model: m(false), predicate: (e) => e.has("deadlock"), expect: "Always" });
  });

  // A wait only reads the fence (it changes nothing, and only the signal, a write, enables it):
  // two waiters commute. Each records the order it saw the fence in a variable of its own, so
  // the outcomes are the same whatever order the waiters wake in; DPOR must reach exactly DFS's.
  it("two waits of one fence commute: after the signal, DPOR runs one execution where two writes of the fence ran two", () => {
    const m = model("two waiters", () => {
      const k = boot(ENOW);
      const f = dma_fence_init(k, "f");
      const a = new SharedVar("a", 0), b = new SharedVar("b", 0);
      return {
        threads: {
          W1: function* () { yield* dma_fence_wait(k, f); yield* a.write(1); },
          W2: function* () { yield* dma_fence_wait(k, f); yield* b.write(1); },
          S: function* () { yield* dma_fence_signal(k, f); },
        },
        final: () => `${a.peek()}${b.peek()}`,
      };
    });
    const run = (strategy: "dfs" | "dpor") => {
      const finals = new Set<string>();
      const r = check({ title: "two waiters", model: m, predicate: (e) => (finals.add(String(e.final)), false), expect: "Never", search: { strategy } });
      return { finals: [...finals].sort(), n: r.stats.executions };
    };
    const dpor = run("dpor");
    expect(dpor.finals).toEqual(["11"]);
    // The two waits and the two writes are all independent: one trace.
    expect(dpor.n).toBe(1);
  });

  it("a wait with a timeout reads the fence: it sees the signal or not, in either order", () => {
    const m = model("timed waiter", () => {
      const k = boot(ENOW);
      const f = dma_fence_init(k, "f");
      const got = new SharedVar("got", -1);
      return {
        threads: {
          W: function* () { yield* got.write(yield* dma_fence_wait_timeout(k, f)); },
          S: function* () { yield* dma_fence_signal(k, f); },
        },
        final: () => got.peek(),
      };
    });
    const finals = new Set<number>();
    check({ title: "timed waiter", model: m, predicate: (e) => (finals.add(e.final as number), false), expect: "Never", search: { strategy: "dpor" } });
    expect([...finals].sort()).toEqual([0, 1]);
  });

  it("a hung job: the timeout handler resets and signals -ETIME; without TDR the fence never signals", () => {
    const m = (tdr: boolean) => model("hang", () => {
      const k = boot(E18);
      const vm = gpuvm_create(k, "vm", dma_device(k, "gpu", "none"));
      const eng = gpu_engine(k, "gfx", {}, tdr);
      const j = gpu_job("J", vm, [], { hang: true });
      return {
        threads: { CS: function* () { yield* drm_sched_job_init(k, eng, j); yield* drm_sched_entity_push_job(k, eng, j); } },
        final: () => ({ err: j.fence!.error, never: fenceLiveness(k, false) }),
      };
    });
    claim({ title: "ETIME", model: m(true), predicate: (e) => e.final.err === ETIME && e.final.never.length === 0, expect: "Always" });
    claim({ title: "never signalled", model: m(false), predicate: (e) => e.final.never.join() === "gfx:J.fence", expect: "Always" });
  });
});

describe("signalling-section oracles (both eras) and their near misses", () => {
  for (const era of [E18, ENOW]) {
    it(`${era.name}: resv lock, reclaiming allocation and fence wait inside the job path are reported; GFP_NOWAIT and after-signal are not`, () => {
      const mk = (what: "resv" | "alloc" | "nowait" | "wait" | "after") => model(`sig ${what}`, () => {
        const k = boot(era);
        const resv = dma_resv_init(k, "bo");
        const other = dma_fence_init(k, "other");
        const vm = gpuvm_create(k, "vm", dma_device(k, "gpu", "none"));
        const eng = gpu_engine(k, "gfx", {
          *job_done(k2) {
            if (what === "resv") { yield* dma_resv_lock(k2, resv, null); yield* dma_resv_unlock(k2, resv); }
            if (what === "alloc") yield* dev_kmalloc(k2, GFP_KERNEL);
            if (what === "nowait") yield* dev_kmalloc(k2, GFP_NOWAIT);
            if (what === "wait") yield* dma_fence_wait(k2, other);
          },
          *free_job(k2) { if (what === "after") { yield* dma_resv_lock(k2, resv, null); yield* dma_resv_unlock(k2, resv); } },
        });
        const j = gpu_job("J", vm, []);
        return { threads: {
          CS: function* () { yield* drm_sched_job_init(k, eng, j); yield* drm_sched_entity_push_job(k, eng, j); },
          O: function* () { yield* dma_fence_signal(k, other); },
        } };
      });
      for (const w of ["resv", "alloc", "wait"] as const) claim({ title: w, model: mk(w), predicate: (e) => e.has("fence-signalling"), expect: "Always" });
      for (const w of ["nowait", "after"] as const) claim({ title: w, model: mk(w), predicate: (e) => e.has("fence-signalling"), expect: "Never" });
    });
  }
  it("dma_fence_begin_signalling exists only now; an explicit section catches a resv lock", () => {
    const m = model("explicit", () => {
      const k = boot(ENOW);
      const resv = dma_resv_init(k, "bo");
      return { threads: { T: function* () { const c = dma_fence_begin_signalling(k); yield* dma_resv_lock(k, resv, null); yield* dma_resv_unlock(k, resv); dma_fence_end_signalling(k, c); } } };
    });
    claim({ title: "fence-signalling", model: m, predicate: (e) => e.has("fence-signalling"), expect: "Always" });
    const old = model("2018", () => { const k = boot(E18); return { threads: { T: function* () { dma_fence_begin_signalling(k); } } }; });
    expect(() => claim({ title: "x", model: old, predicate: () => true, expect: "Always" })).toThrow(/does not exist in era "E18"/);
  });
});

describe("dma_resv contract", () => {
  it("a fence of the same context replaces only an entry whose usage is no stronger (dma_resv_add_fence)", () => {
    // A READ fence of the WRITE fence's context must not remove it: a WRITE wait still sees it.
    const m = model("same context", () => {
      const k = boot(ENOW);
      const r = dma_resv_init(k, "bo");
      const w = dma_fence_init(k, "w"), rd = dma_fence_init(k, "rd", w.context);
      let sees = false;
      return {
        threads: {
          T: function* () {
            yield* dma_resv_lock(k, r, null);
            yield* dma_resv_reserve_fences(k, r, 2);
            yield* dma_resv_add_fence(k, r, w, "WRITE");
            yield* dma_resv_add_fence(k, r, rd, "READ");
            yield* dma_resv_unlock(k, r);
            sees = !(yield* dma_resv_test_signaled(r, "WRITE"));
            yield* dma_fence_signal(k, w);
            yield* dma_fence_signal(k, rd);
          },
        },
        final: () => sees,
      };
    });
    claim({ title: "the WRITE fence stays", model: m, predicate: (e) => e.final === true, expect: "Always" });
  });

  it("now: add_fence needs the lock and a reserved slot; wait covers usages <= U", () => {
    const mk = (v: "ok" | "no-reserve" | "no-lock") => model(`resv ${v}`, () => {
      const k = boot(ENOW);
      const r = dma_resv_init(k, "bo");
      const w = dma_fence_init(k, "w"), b = dma_fence_init(k, "bk");
      const got: boolean[] = [];
      return {
        threads: {
          T: function* () {
            if (v !== "no-lock") yield* dma_resv_lock(k, r, null);
            if (v === "ok") yield* dma_resv_reserve_fences(k, r, 2);
            yield* dma_resv_add_fence(k, r, w, "WRITE");
            yield* dma_resv_add_fence(k, r, b, "BOOKKEEP");
            if (v !== "no-lock") yield* dma_resv_unlock(k, r);
            yield* dma_fence_signal(k, w);
            yield* dma_resv_wait_timeout(k, r, "READ");
            got.push(b.isSignaled());
            yield* dma_fence_signal(k, b);
          },
        },
        final: () => got,
      };
    });
    claim({ title: "ok", model: mk("ok"), predicate: (e) => e.has("resv-protocol"), expect: "Never" });
    claim({ title: "READ wait does not wait for BOOKKEEP", model: mk("ok"), predicate: (e) => e.final[0] === false, expect: "Always" });
    claim({ title: "no reserve", model: mk("no-reserve"), predicate: (e) => e.has("resv-protocol"), expect: "Always" });
    claim({ title: "no lock", model: mk("no-lock"), predicate: (e) => e.has("resv-protocol"), expect: "Always" });
  });
  it("2018: exclusive fence drops the shared ones; wait_all=false waits only for the exclusive", () => {
    const m = model("resv 2018", () => {
      const k = boot(E18);
      const r = dma_resv_init(k, "bo");
      const s = dma_fence_init(k, "shared"), x = dma_fence_init(k, "excl"), s2 = dma_fence_init(k, "shared2");
      return {
        threads: {
          T: function* () {
            yield* dma_resv_lock(k, r, null);
            yield* reservation_object_reserve_shared(k, r);
            yield* reservation_object_add_shared_fence(k, r, s);
            yield* reservation_object_add_excl_fence(k, r, x);
            yield* reservation_object_reserve_shared(k, r);
            yield* reservation_object_add_shared_fence(k, r, s2);
            yield* dma_resv_unlock(k, r);
            yield* dma_fence_signal(k, x);
            yield* reservation_object_wait_timeout_rcu(k, r, false);
            yield* dma_fence_signal(k, s2);
            yield* dma_fence_signal(k, s);
          },
        },
        final: () => r.fences.map((e) => e.fence.name).join(),
      };
    });
    claim({ title: "list", model: m, predicate: (e) => e.final === "excl,shared2" && !e.has("deadlock"), expect: "Always" });
  });
});

/** S5: the job-completion path allocates with `gfp`; a GPU shrinker waits for the BO's fence. */
function s5(era: Era, gfp: number) {
  return model(`S5 ${era.name} ${gfpName(gfp)}`, () => {
    const k = boot(era, { reclaim: "choose" });
    dma_resv_lockdep(k);
    const vm = gpuvm_create(k, "vm", dma_device(k, "gpu", "none"));
    const busy = new SharedVar<DmaFence | null>("bo.fence", null);
    register_shrinker(k, {
      name: "gpu_shrinker",
      *count_objects() { return 1; },
      *scan_objects() { const f = yield* busy.read(); if (f) yield* dma_fence_wait(k, f); return 1; },
    });
    const eng = gpu_engine(k, "gfx", { *job_done(k2) { yield* dev_kmalloc(k2, gfp, "completion work"); } });
    const j = gpu_job("J", vm, []);
    return { threads: { CS: function* () {
      yield* drm_sched_job_init(k, eng, j, GFP_NOWAIT);
      yield* busy.write(j.fence);
      dma_fence_publish(j.fence!);
      yield* drm_sched_entity_push_job(k, eng, j);
    } } };
  });
}

describe("S5: fence signalling path allocates; the shrinker waits for that fence", () => {
  const cases: [Era, number, string, string, string][] = [
    // era, gfp, deadlock, fence-signalling, lockdep
    [E18, GFP_KERNEL, "Sometimes", "Always", "Never"],
    [E18, GFP_NOFS, "Sometimes", "Always", "Never"],
    [E18, GFP_NOWAIT, "Never", "Never", "Never"],
    // Lockdep is silent now too: the allocation is in the job's completion path, before
    // dma_fence_signal's own section, and stock drm_sched annotates nothing there (dma-fence.ts
    // signalling_path); the fence-signalling rule still sees it.
    [ENOW, GFP_KERNEL, "Sometimes", "Always", "Never"],
    [ENOW, GFP_NOFS, "Sometimes", "Always", "Never"],
    [ENOW, GFP_NOWAIT, "Never", "Never", "Never"],
  ];
  for (const [era, gfp, dl, sig, ldv] of cases) {
    it(`${era.name} ${gfpName(gfp)}: deadlock ${dl}, fence-signalling ${sig}, lockdep ${ldv}`, () => {
      const m = s5(era, gfp);
      claim({ title: "deadlock", model: m, predicate: (e) => e.has("deadlock"), expect: dl as "Never" });
      claim({ title: "fence-signalling", model: m, predicate: (e) => e.has("fence-signalling"), expect: sig as "Never" });
      claim({ title: "lockdep", model: m, predicate: (e) => e.has("lockdep"), expect: ldv as "Never" });
    });
  }
});
