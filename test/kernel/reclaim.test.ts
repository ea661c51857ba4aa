// Reclaim, GFP contexts, shrinkers and workqueues (kernel-semantics §13–§15, §26, §27, §30).
import { describe, it } from "vitest";
import { claim, Completion, model } from "../../lib/explorer/index.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import { E18, ENOW, ERAS, type Era } from "../../lib/kernel/era.ts";
import { mm_alloc, mmap_region, VM_READ, VM_SHARED, PTE_SWAP } from "../../lib/kernel/mm.ts";
import { populate } from "../../lib/kernel/populate.ts";
import { KMutex } from "../../lib/kernel/mutex.ts";
import { MmuNotifier } from "../../lib/kernel/mmu-notifier.ts";
import { GFP_ATOMIC, GFP_KERNEL, GFP_NOFS, GFP_NOIO, __GFP_FS, kmalloc } from "../../lib/kernel/gfp.ts";
import { register_shrinker, shrink_slab } from "../../lib/kernel/shrinker.ts";
import { file_create } from "../../lib/kernel/file.ts";
import { swapon } from "../../lib/kernel/swap.ts";
import { FOLL_WRITE, get_user_pages, pin_user_pages } from "../../lib/kernel/gup.ts";
import { shrink_folio_list } from "../../lib/kernel/vmscan.ts";
import { user_read, user_write } from "../../lib/kernel/user.ts";
import { fork } from "../../lib/kernel/fork.ts";
import { munmap } from "../../lib/kernel/munmap.ts";
import { CPU_WRITE_ID } from "../../lib/kernel/page.ts";
import { alloc_workqueue, cancel_work_sync, flush_work, flush_workqueue, init_work, queue_work, WQ_MEM_RECLAIM } from "../../lib/kernel/workqueue.ts";

describe.each(ERAS)("direct reclaim reaches notifiers ($name)", (era) => {
  const m = (gfp: number, fileBacked: boolean) =>
    model(`reclaim from ${gfp}`, () => {
      const k = boot(era, { reclaim: "always" });
      if (!fileBacked) swapon(k);
      const mm = mm_alloc(k, 8);
      if (fileBacked) mmap_region(mm, 0, 1, VM_READ | VM_SHARED, file_create(k, "f", 1));
      else mmap_region(mm, 0, 1);
      populate(k, mm, 0, 1);
      let calls = 0;
      const sub = new MmuNotifier({ name: "drv", *invalidate_range_start() { calls++; return 0; } });
      sub.mm = mm;
      mm.notifiers.hlist.push(sub);
      return { threads: { T: function* () { yield* kmalloc(k, gfp); } }, final: () => calls };
    });
  it("a clean mapped file page is unmapped under GFP_NOFS and GFP_NOIO: the notifier runs", () => {
    claim({ title: "NOFS", model: m(GFP_NOFS, true), predicate: (e) => e.final > 0, expect: "Sometimes" });
    claim({ title: "NOIO", model: m(GFP_NOIO, true), predicate: (e) => e.final > 0, expect: "Sometimes" });
  });
  it("an anon page needs __GFP_IO to be swapped: never under GFP_NOIO; GFP_ATOMIC never reclaims", () => {
    claim({ title: "anon NOIO", model: m(GFP_NOIO, false), predicate: (e) => e.final > 0, expect: "Never" });
    claim({ title: "anon NOFS", model: m(GFP_NOFS, false), predicate: (e) => e.final > 0, expect: "Sometimes" });
    claim({ title: "atomic", model: m(GFP_ATOMIC, true), predicate: (e) => e.final > 0, expect: "Never" });
  });
});

describe("swap-out of a GUP'd anon page", () => {
  const m = (era: Era) =>
    model(`swap pinned (${era.name})`, () => {
      const k = boot(era);
      swapon(k);
      const mm = mm_alloc(k, 8);
      mmap_region(mm, 0, 1);
      const [pfn] = populate(k, mm, 0, 1);
      const pages: number[] = [];
      let swapped = false, back = -1;
      return {
        threads: {
          T: function* () {
            yield* mm.mmapLock.downRead();
            if (era.pinTracking) yield* pin_user_pages(k, mm, 0, 1, FOLL_WRITE, pages);
            else yield* get_user_pages(k, mm, 0, 1, FOLL_WRITE, pages);
            yield* mm.mmapLock.upRead();
            yield* shrink_folio_list(k, pfn, GFP_KERNEL, true);
            swapped = (mm.pteFlags[0] & PTE_SWAP) !== 0;
            yield* user_read(k, mm, 0);
            back = mm.cpuPfn(0);
          },
        },
        final: () => ({ swapped, same: back === pfn, alive: k.mem.ref[pfn] > 0 }),
      };
    });
  it("2018: unmapped into the swap cache, kept by the reference, refaulted to the same page", () => {
    claim({ title: "E18", model: m(E18), predicate: (e) => e.final.swapped && e.final.same && e.final.alive, expect: "Always" });
  });
  it("now: refused (maybe pinned): the PTE stays", () => {
    claim({ title: "now", model: m(ENOW), predicate: (e) => !e.final.swapped && e.final.same, expect: "Always" });
  });
});

describe.each(ERAS)("shrinkers and fs_reclaim ($name)", (era) => {
  /** `primed`: the driver primes the shrinker's edge at init, as drivers do (kernel-semantics §14):
   *  a step of every execution's boot, so each execution's fresh graph holds it. */
  const m = (gfp: number, primed = false) =>
    model("shrinker lock", () => {
      const k = boot(era, { reclaim: "choose" });
      if (primed) k.lockdep.prime(["fs_reclaim", "&obj->lock"], "driver init: fs_reclaim_acquire(GFP_KERNEL); might_lock(&obj->lock)");
      const l = new KMutex(k, "obj->lock", "&obj->lock");
      let sawFs = -1;
      register_shrinker(k, {
        name: "drv_shrinker",
        *count_objects(sc) { sawFs = sc.gfp & __GFP_FS ? 1 : 0; return 1; },
        *scan_objects() { yield* l.lock(); yield* l.unlock(); return 1; },
      });
      return { threads: { T: function* () { yield* l.lock(); yield* kmalloc(k, gfp); yield* l.unlock(); } }, final: () => sawFs };
    });
  it("a lock held around a reclaiming allocation and taken in the shrinker: real deadlock; lockdep only for __GFP_FS", () => {
    claim({ title: "deadlock GFP_KERNEL", model: m(GFP_KERNEL), predicate: (e) => e.has("deadlock"), expect: "Sometimes" });
    claim({ title: "deadlock GFP_NOFS", model: m(GFP_NOFS), predicate: (e) => e.has("deadlock"), expect: "Sometimes" });
    // Lockdep predicts it (reports in a run where reclaim did not even happen) only through
    // fs_reclaim, i.e. only for __GFP_FS; under NOFS it sees it only when the recursion really
    // runs. The driver primes the shrinker's edge at init (m's `primed`).
    claim({ title: "lockdep predicts GFP_KERNEL", model: m(GFP_KERNEL, true), predicate: (e) => e.has("lockdep"), expect: "Always" });
    claim({ title: "lockdep does not predict GFP_NOFS", model: m(GFP_NOFS, true), predicate: (e) => e.has("lockdep") && !e.has("deadlock"), expect: "Never" });
    claim({ title: "the shrinker sees the NOFS mask", model: m(GFP_NOFS), predicate: (e) => e.final === 0, expect: "Sometimes" });
  });
});

describe.each(ERAS)("workqueues ($name)", (era) => {
  /** T queues a work that takes mn->lock, then flushes it (`how`) while holding mn->lock. */
  const flushUnderLock = (how: "flush_workqueue" | "flush_work" | "cancel_work_sync", flags = 0) =>
    model(how === "flush_workqueue" ? "flush under a lock the work takes" : `${how} under a lock the work takes (flags ${flags})`, () => {
      const k = boot(era);
      const l = new KMutex(k, "mn->lock");
      const wq = alloc_workqueue(k, "i915-userptr-release", flags);
      const w = init_work(k, "cancel_userptr", function* () { yield* l.lock(); yield* l.unlock(); });
      return {
        threads: {
          T: function* () {
            yield* queue_work(k, wq, w);
            yield* l.lock();
            if (how === "flush_workqueue") yield* flush_workqueue(k, wq);
            else if (how === "flush_work") yield* flush_work(k, w);
            else yield* cancel_work_sync(k, w);
            yield* l.unlock();
          },
        },
      };
    });
  // Each execution boots with a fresh lockdep graph, so lockdep's verdict comes from the schedule itself.
  const m = () => flushUnderLock("flush_workqueue");
  it(`real deadlock Sometimes; lockdep ${era.wqFlushLockdep ? "reports" : "silent (no flush maps v4.15–v4.18)"}`, () => {
    claim({ title: "deadlock", model: m(), predicate: (e) => e.has("deadlock"), expect: "Sometimes" });
    claim({ title: "lockdep", model: m(), predicate: (e) => e.has("lockdep"), expect: era.wqFlushLockdep ? "Always" : "Never" });
  });
  // start_flush_work's "force a lock recursion deadlock" annotation on ordered and rescuer-equipped
  // queues survived fd1a5b04dfb8, so v4.16 lockdep sees a cycle through flush_work and
  // cancel_work_sync of a pending or running work on a WQ_MEM_RECLAIM queue (not through
  // flush_workqueue). Since d6e89786bed9 (v4.19) cancel_work_sync skips it.
  // In v4.16 the report must come from the schedule that flushes a pending work.
  const viaWork = (flags: number, how: "flush_work" | "cancel_work_sync") => flushUnderLock(how, flags);
  // The work's map: touched by every flush_work v4.19–v6.8, since c35aea39d1e1 (v6.9) only when
  // the work is still pending or running, so a flush after the work finished reports nothing.
  const viaWorkMap = era.wqFlushLockdep ? (era.wqFlushWorkMapWhenBusy ? "Sometimes" : "Always") : "Never";
  it(`flush_work: ${era.wqFlushLockdep ? `the work's map reports ${viaWorkMap === "Always" ? "in every schedule" : "when the work is still pending or running (v6.9+)"}` : "v4.16 reports only through a rescuer queue's map, when the work is still pending"}`, () => {
    claim({ title: "rescuer queue", model: viaWork(WQ_MEM_RECLAIM, "flush_work"), predicate: (e) => e.has("lockdep"), expect: era.wqFlushLockdep ? viaWorkMap : "Sometimes" });
    claim({ title: "plain queue", model: viaWork(0, "flush_work"), predicate: (e) => e.has("lockdep"), expect: viaWorkMap });
  });
  it(`cancel_work_sync: ${era.wqFlushLockdep ? "through the work's map only" : "v4.16: through the rescuer queue's map"}`, () => {
    claim({ title: "cancel, rescuer queue", model: viaWork(WQ_MEM_RECLAIM, "cancel_work_sync"), predicate: (e) => e.has("lockdep"), expect: "Sometimes" });
    claim({ title: "cancel, plain queue", model: viaWork(0, "cancel_work_sync"), predicate: (e) => e.has("lockdep"), expect: era.wqFlushLockdep ? "Sometimes" : "Never" });
  });
  it("queue_work on a pending item is a no-op; flush_work waits for it", () => {
    const mm = model("queue twice", () => {
      const k = boot(era);
      const wq = alloc_workqueue(k, "wq");
      let runs = 0;
      const w = init_work(k, "w", function* () { runs++; });
      let second = true;
      return {
        threads: { T: function* () { yield* queue_work(k, wq, w); second = yield* queue_work(k, wq, w); yield* flush_work(k, w); } },
        final: () => ({ runs, second }),
      };
    });
    claim({ title: "ran once or twice, never lost", model: mm, predicate: (e) => e.final.runs === (e.final.second ? 2 : 1), expect: "Always" });
    claim({ title: "second queue can be a no-op", model: mm, predicate: (e) => !e.final.second, expect: "Sometimes" });
  });
});

describe.each(ERAS)("swap-in of a page reclaim freed ($name)", (era) => {
  // do_swap_page into a new frame: the page ends in the swap cache and mapped, so it holds two
  // references, the cache's and the mapping's (add_to_swap_cache, then the fault's own becomes the
  // mapping's). The model once left only one: reclaim could never free the page again, and a zap
  // could free it while the swap cache still named it.
  const m = model("swap out, swap in", () => {
    const k = boot(era, { reclaimCandidates: () => [1] });
    swapon(k);
    const mm = mm_alloc(k, 8);
    mmap_region(mm, 0, 1);
    const [pfn] = populate(k, mm, 0, 1);
    return {
      threads: { T: function* () { yield* shrink_folio_list(k, pfn, GFP_KERNEL, false); yield* user_read(k, mm, 0); } },
      final: () => {
        // The freed frame comes back from the allocator (LIFO): being in the swap cache is what says
        // the page came in from swap.
        const now = mm.ptePfn[0];
        return { ref: k.mem.ref[now], mapcount: k.mem.mapcount[now], cached: k.swap!.pfnSlot[now] >= 0 };
      },
    };
  });
  it("the swapped-in page has the cache's and the mapping's references", () => {
    claim({ title: "swapped in", model: m, predicate: (e) => e.final.cached, expect: "Always" });
    claim({ title: "two references", model: m, predicate: (e) => e.final.ref !== 2 || e.final.mapcount !== 1, expect: "Never" });
  });
});

/** Setup of the swap-and-fork tests below: swap on, a parent with one populated anon page (frame
 *  pfn, reclaim's only candidate) and an empty child mm for fork. */
function swapForkSetup(era: Era) {
  const k = boot(era, { reclaimCandidates: () => [1] });
  swapon(k);
  const parent = mm_alloc(k, 8);
  const child = mm_alloc(k, 8);
  mmap_region(parent, 0, 1);
  const [pfn] = populate(k, parent, 0, 1);
  return { k, parent, child, pfn };
}

describe.each(ERAS)("COW of a page back in the swap cache ($name)", (era) => {
  // Reclaim swaps the page out (of the child too, after a fork), the parent reads it back into the
  // swap cache, the parent writes. Alone, the parent reuses the page and takes it out of the swap
  // cache (v6.x wp_can_reuse_anon_folio -> folio_free_swap; v4.16 reuse_swap_page ->
  // delete_from_swap_cache). With the child's swap entry still naming the slot the kernel copies:
  // folio_free_swap keeps the page (folio_swapped), so the refcount stays cache + mapping (v4.16:
  // map + swap count 2). The model once counted the swap cache's reference as nobody's in v6.x and
  // reused the page (the child read the parent's store); in v4.16 it decided right but never took
  // a reused page out of the swap cache.
  const m = (forked: boolean) =>
    model(forked ? "fork, swap out, parent reads, parent writes, child reads" : "swap out, read, write", () => {
      const { k, parent, child, pfn } = swapForkSetup(era);
      let seen = 0, readIn = -1;
      return {
        threads: {
          T: function* () {
            if (forked) yield* fork(k, parent, child);
            yield* shrink_folio_list(k, pfn, GFP_KERNEL, false);
            yield* user_read(k, parent, 0);
            readIn = parent.ptePfn[0];
            yield* user_write(k, parent, 0);
            if (forked) seen = yield* user_read(k, child, 0);
          },
        },
        final: () => {
          const now = parent.ptePfn[0];
          return { leaked: (seen & (1 << CPU_WRITE_ID)) !== 0, reused: now === readIn, cached: k.swap!.pfnSlot[now] >= 0, ref: k.mem.ref[now] };
        },
      };
    });
  it("alone: the page is reused; v4.16 takes it out of the swap cache, v6.x (PageAnonExclusive from the swap-in) never looks", () => {
    const uncached = (e: { final: { cached: boolean; ref: number } }): boolean => !e.final.cached && e.final.ref === 1;
    const cached = (e: { final: { cached: boolean; ref: number } }): boolean => e.final.cached && e.final.ref === 2;
    const expected = era.cowReuse === "mapcount" ? uncached : cached;
    claim({ title: "reused", model: m(false), predicate: (e) => e.final.reused && expected(e), expect: "Always" });
  });
  it("forked: the parent copies and the child never sees the parent's store", () => {
    claim({ title: "copied", model: m(true), predicate: (e) => !e.final.reused, expect: "Always" });
    claim({ title: "child sees parent", model: m(true), predicate: (e) => e.final.leaked, expect: "Never" });
  });
});

describe.each(ERAS)("COW of a swap-cache page with reclaim beside the write fault ($name)", (era) => {
  // The parent's write fault decides reuse under the PTE lock in the kernel; the model's steps are
  // apart, so reclaim can unmap the parent between the snapshot and the locked check. The model
  // once took the leftover reference (the swap cache's) for the mapping's and marked the unmapped
  // page exclusive: the parent's next fault reused it and the child read the parent's store.
  const m = model("fork, swap out, parent reads; parent writes beside reclaim; child reads", () => {
    const { k, parent, child, pfn } = swapForkSetup(era);
    // Reclaim starts once the parent has read the page back (the window is the write fault's).
    const readBack = new Completion("read back");
    let seen = 0;
    return {
      threads: {
        P: function* () {
          yield* fork(k, parent, child);
          yield* shrink_folio_list(k, pfn, GFP_KERNEL, false);
          yield* user_read(k, parent, 0);
          yield* readBack.complete();
          yield* user_write(k, parent, 0);
          seen = yield* user_read(k, child, 0);
        },
        R: function* () {
          yield* readBack.wait();
          yield* shrink_folio_list(k, pfn, GFP_KERNEL, false);
        },
      },
      final: () => ({ leaked: (seen & (1 << CPU_WRITE_ID)) !== 0 }),
    };
  });
  // Within two preemptions (the witness of the old bug needs one; exhaustive, over field
  // footprints, the same Never took 17 s of the unit tests in the now era).
  it("the child never sees the parent's store (at most 2 preemptions)", () => {
    claim({ title: "child sees parent", model: m, predicate: (e) => e.final.leaked, expect: "Never", search: { strategy: "bounded", preemptions: 2 } });
  });
});

describe.each(ERAS)("swap-in after fork: exclusive only by the swap entry ($name)", (era) => {
  // fork shares the page (PageAnonExclusive cleared), the child unmaps it, reclaim swaps it out:
  // the swap entry is not exclusive. v6.x's do_swap_page then maps it shared on a read fault
  // (pte_swp_exclusive), so a write with a GUP reference held copies (wp_can_reuse_anon_folio:
  // refcount). v4.16 counts mappings and swap entries (reuse_swap_page): alone, it reuses, GUP
  // reference or not. The model once decided by counts in both eras, and reused in v6.x too.
  const m = model("fork, child unmaps, swap out, read back, GUP, write", () => {
    const { k, parent, child, pfn } = swapForkSetup(era);
    const pages: number[] = [];
    let before = -1;
    return {
      threads: {
        T: function* () {
          yield* fork(k, parent, child);
          yield* munmap(k, child, 0, 1);
          yield* shrink_folio_list(k, pfn, GFP_KERNEL, false);
          yield* user_read(k, parent, 0);
          yield* parent.mmapLock.downRead();
          yield* get_user_pages(k, parent, 0, 1, 0, pages);
          yield* parent.mmapLock.upRead();
          before = parent.ptePfn[0];
          yield* user_write(k, parent, 0);
        },
      },
      final: () => ({ reused: parent.ptePfn[0] === before, gup: pages[0] === before }),
    };
  });
  it(era.cowReuse === "exclusive" ? "v6.x copies" : "v4.16 reuses", () => {
    claim({ title: "GUP saw the page read back", model: m, predicate: (e) => e.final.gup, expect: "Always" });
    claim({ title: "reused", model: m, predicate: (e) => e.final.reused, expect: era.cowReuse === "exclusive" ? "Never" : "Always" });
  });
});

describe("shrink_slab with shrinker_rwsem contended (v4.16)", () => {
  // mm/vmscan.c v4.16: a failed down_read_trylock(&shrinker_rwsem) returns 1, "by returning 1
  // we keep it going": reclaim must not read a contended rwsem as "nothing left to shrink".
  const m = model("shrink_slab vs register_shrinker", () => {
    const k = boot(E18);
    let calls = 0;
    let ret = -1;
    register_shrinker(k, { name: "drv_shrinker", *count_objects() { return 1; }, *scan_objects() { calls++; return 1; } });
    const rw = k.shrinkerRwsem!;
    return {
      threads: {
        // register_shrinker's down_write(&shrinker_rwsem), held across the list insertion.
        W: function* () { yield* rw.downWrite(); yield* rw.upWrite(); },
        R: function* () { ret = yield* shrink_slab(k, GFP_KERNEL); },
      },
      final: () => ({ ret, calls }),
    };
  });
  it("returns 1 without calling a shrinker when the trylock fails, never 0", () => {
    claim({ title: "contended: 1, no shrinker called", model: m, predicate: (e) => e.final.ret === 1 && e.final.calls === 0, expect: "Sometimes" });
    claim({ title: "never 0", model: m, predicate: (e) => e.final.ret === 0, expect: "Never" });
  });
});
