// Canonical scenarios of kernel-semantics §29 with their expected verdict per era.
import { describe, expect, it } from "vitest";
import { check, claim, model } from "../../lib/explorer/index.ts";
import type { Yieldable } from "../../lib/explorer/index.ts";
import { boot, type Kernel } from "../../lib/kernel/kernel.ts";
import { E18, ENOW, era as mix, type Era } from "../../lib/kernel/era.ts";
import { mm_alloc, mmap_region, VM_MAYWRITE, VM_READ, VM_SHARED, VM_WRITE, type Mm } from "../../lib/kernel/mm.ts";
import { populate } from "../../lib/kernel/populate.ts";
import { KMutex } from "../../lib/kernel/mutex.ts";
import { EAGAIN, MmuIntervalNotifier, MmuNotifier, mmu_interval_read_begin, mmu_interval_read_retry, mmu_interval_set_seq } from "../../lib/kernel/mmu-notifier.ts";
import { FOLL_LONGTERM, FOLL_WRITE, get_user_pages, pin_user_pages, put_page, set_page_dirty, set_page_dirty_lock, unpin_user_page } from "../../lib/kernel/gup.ts";
import { fork } from "../../lib/kernel/fork.ts";
import { user_write } from "../../lib/kernel/user.ts";
import { divergenceOf, lostWrites } from "../../lib/kernel/oracles.ts";
import { munmap } from "../../lib/kernel/munmap.ts";
import { hmm_alloc, hmm_mirror_register, hmm_vma_fault, hmm_vma_range_done, HmmMirror, HmmRange, hmm_range_fault, EBUSY } from "../../lib/kernel/hmm.ts";
import { GFP_ATOMIC, GFP_KERNEL, GFP_NOFS, GFP_NOIO, kmalloc } from "../../lib/kernel/gfp.ts";
import { register_shrinker } from "../../lib/kernel/shrinker.ts";
import { shrink_folio_list } from "../../lib/kernel/vmscan.ts";
import { file_create } from "../../lib/kernel/file.ts";
import { writeback_page } from "../../lib/kernel/writeback.ts";
import { oom_reap_task } from "../../lib/kernel/oom.ts";
import { migrate_page, type MigrateReason } from "../../lib/kernel/migrate.ts";
import { khugepaged_scan_pmd } from "../../lib/kernel/khugepaged.ts";
import { swapon } from "../../lib/kernel/swap.ts";
import { MirrorGpu } from "../../lib/kernel/mirror-gpu.ts";
import { s4CallbackAllocates, s4Deadlock } from "./s4.ts";

type Gen<T> = Generator<Yieldable, T, unknown>;

function hook(mm: Mm, sub: MmuNotifier): void {
  sub.mm = mm;
  mm.notifiers.hlist.push(sub);
}
function hookInterval(mm: Mm, sub: MmuIntervalNotifier): void {
  sub.mm = mm;
  sub.invalidateSeq = mm.notifiers.invalidateSeq - 1;
  mm.notifiers.itree.push(sub);
  mm.notifiers.hasItree = true; // as the first interval registration leaves it (has_itree)
}

// ---------------------------------------------------------------------------------------------
describe("S1 fork after pin", () => {
  const s1 = (era: Era, dontfork = false) =>
    model(`S1 (${era.name}${dontfork ? ", MADV_DONTFORK" : ""})`, () => {
      const k = boot(era);
      const p = mm_alloc(k, 8, "parent"), c = mm_alloc(k, 8, "child");
      const vma = mmap_region(p, 0, 1);
      if (dontfork) vma.flags |= 1 << 7; // VM_DONTFORK
      populate(k, p, 0, 1);
      const gpu = new MirrorGpu(k, p);
      const pages: number[] = [];
      return {
        threads: {
          Parent: function* () {
            yield* p.mmapLock.downRead();
            if (era.pinTracking) yield* pin_user_pages(k, p, 0, 1, FOLL_WRITE | FOLL_LONGTERM, pages);
            else yield* get_user_pages(k, p, 0, 1, FOLL_WRITE, pages);
            yield* p.mmapLock.upRead();
            yield* gpu.map(0, pages);
            yield* fork(k, p, c);
            yield* user_write(k, p, 0);
          },
          Gpu: function* () { yield* gpu.write(0); },
        },
        final: () => ({ div: gpu.pfn[0] >= 0 ? divergenceOf(p, 0, gpu.pfn[0]) : null, lost: lostWrites(k).length }),
      };
    });
  it("E18: the device and the parent diverge (cause: kernel COW), device writes can be lost", () => {
    // No race needed: GUP, fork, then the parent's write always COWs away from the pinned page.
    claim({ id: "S1/E18", title: "divergence", model: s1(E18), predicate: (e) => e.final.div === "kernel: COW after fork", expect: "Always" });
    claim({ title: "lost write", model: s1(E18), predicate: (e) => e.final.lost > 0, expect: "Sometimes" });
    claim({ title: "cross-mm write", model: s1(E18), predicate: (e) => e.has("cross-mm-write"), expect: "Sometimes" });
  });
  it("now: the child gets the copy at fork; Never", () => {
    claim({ id: "S1/now", title: "divergence", model: s1(ENOW), predicate: (e) => e.final.div !== null || e.final.lost > 0 || e.has("cross-mm-write"), expect: "Never" });
  });
  it("E18 with the era's workaround (MADV_DONTFORK): Never; E18 with only early COW switched on: Never", () => {
    claim({ title: "dontfork", model: s1(E18, true), predicate: (e) => e.final.div !== null || e.final.lost > 0, expect: "Never" });
    // Early COW needs pin tracking (MMF_HAS_PINNED) to know the page is pinned: both switches.
    claim({ title: "early cow", model: s1(mix(E18, { forkEarlyCopyPinned: true, pinTracking: true, cowReuse: "exclusive" })), predicate: (e) => e.final.div !== null, expect: "Never" });
  });
});

// ---------------------------------------------------------------------------------------------
describe("S3 HMM invalidation at range_end (v4.16)", () => {
  const s3 = (era: Era) =>
    model(`S3 (${era.name})`, () => {
      const k = boot(era, { gatherBatch: 1 });
      const mm = mm_alloc(k, 8);
      mmap_region(mm, 0, 2);
      populate(k, mm, 0, 2);
      const gpu = new MirrorGpu(k, mm);
      const hmm = hmm_alloc(k, mm);
      // The driver's own lock orders "range done? then program the GPU" against its sync callback.
      const lock = new KMutex(k, "drv->update_lock");
      const mirror = new HmmMirror({
        name: "drv_mirror",
        *sync_cpu_device_pagetables(_m, start, end) { yield* lock.lock(); yield* gpu.unmap(start, end); yield* lock.unlock(); },
      });
      return {
        threads: {
          Drv: function* () {
            yield* mm.mmapLock.downWrite();
            yield* hmm_mirror_register(k, mirror, hmm);
            yield* mm.mmapLock.upWrite();
            const range = new HmmRange(mm, 0, 2);
            yield* mm.mmapLock.downRead();
            yield* hmm_vma_fault(k, hmm, range, true, true);
            yield* mm.mmapLock.upRead();
            yield* lock.lock();
            if (yield* hmm_vma_range_done(k, hmm, range)) yield* gpu.map(0, range.pfns);
            yield* lock.unlock();
          },
          P: function* () { yield* munmap(k, mm, 0, 2); },
        },
      };
    });
  it("E18: pages freed by munmap (gather flush) while the GPU still maps them: uaf Sometimes", () => {
    claim({ id: "S3/E18", title: "uaf", model: s3(E18), predicate: (e) => e.has("uaf"), expect: "Sometimes" });
  });
  it("≈v4.20 fix (device invalidated from range_start): Never", () => {
    claim({ id: "S3/fix", title: "uaf", model: s3(mix(E18, { hmmInvalidateAtEnd: false })), predicate: (e) => e.has("uaf"), expect: "Never" });
  });
});

// ---------------------------------------------------------------------------------------------
describe("S4 notifier callback allocates", () => {
  it("lockdep: E18 silent, now reports (notifier map -> fs_reclaim -> notifier map) without any reclaim", () => {
    claim({ id: "S4/E18", title: "lockdep", model: s4CallbackAllocates(E18, GFP_KERNEL), predicate: (e) => e.has("lockdep"), expect: "Never" });
    const r = claim({ id: "S4/now", title: "lockdep", model: s4CallbackAllocates(ENOW, GFP_KERNEL), predicate: (e) => e.has("lockdep"), expect: "Always" });
    expect(r.counts.true).toBeGreaterThan(0);
    claim({ title: "now, GFP_NOIO also reported (§30)", model: s4CallbackAllocates(ENOW, GFP_NOIO), predicate: (e) => e.has("lockdep"), expect: "Always" });
    claim({ title: "now, GFP_ATOMIC is fine (near miss)", model: s4CallbackAllocates(ENOW, GFP_ATOMIC), predicate: (e) => e.has("lockdep"), expect: "Never" });
  });

  it("real deadlock under GFP_NOFS and GFP_NOIO, in both eras", () => {
    for (const era of [E18, ENOW])
      for (const gfp of [GFP_NOFS, GFP_NOIO])
        claim({ title: `deadlock ${era.name} ${gfp === GFP_NOFS ? "NOFS" : "NOIO"}`, model: s4Deadlock(era, gfp), predicate: (e) => e.has("deadlock"), expect: "Sometimes" });
  });
  it("B alone deadlocks on itself: its own reclaim calls the notifier, which takes the lock B holds", () => {
    claim({ title: "self", model: s4Deadlock(E18, GFP_ATOMIC), predicate: (e) => e.has("deadlock"), expect: "Sometimes" });
  });
  it("near miss: B allocates before taking the driver lock -> no deadlock", () => {
    claim({ title: "alloc first", model: s4Deadlock(E18, GFP_NOFS, true), predicate: (e) => e.has("deadlock"), expect: "Never" });
  });
});

// ---------------------------------------------------------------------------------------------
describe("S6 set_page_dirty_lock in a notifier called from try_to_unmap", () => {
  const s6 = (era: Era, locked: boolean) =>
    model(`S6 (${era.name}, ${locked ? "set_page_dirty_lock" : "set_page_dirty"})`, () => {
      const k = boot(era);
      swapon(k);
      const mm = mm_alloc(k, 8);
      mmap_region(mm, 0, 1);
      const [pfn] = populate(k, mm, 0, 1);
      hook(mm, new MmuNotifier({
        name: "i915_mn",
        *invalidate_range_start() {
          if (locked) yield* set_page_dirty_lock(k, pfn);
          else yield* set_page_dirty(k, pfn);
          return 0;
        },
      }));
      return { threads: { Kswapd: function* () { yield* shrink_folio_list(k, pfn, GFP_KERNEL, true); } } };
    });
  for (const era of [E18, ENOW]) {
    it(`${era.name}: page-lock-recursion and deadlock Always; set_page_dirty (unlocked) near miss Never`, () => {
      claim({ id: `S6/${era.name}`, title: "recursion", model: s6(era, true), predicate: (e) => e.has("page-lock-recursion") && e.has("deadlock"), expect: "Always" });
      claim({ title: "near miss", model: s6(era, false), predicate: (e) => e.has("page-lock-recursion") || e.has("deadlock"), expect: "Never" });
    });
  }
});

// ---------------------------------------------------------------------------------------------
describe("S7 gup + writeback", () => {
  const s7 = (era: Era) =>
    model(`S7 (${era.name})`, () => {
      const k = boot(era);
      const mm = mm_alloc(k, 8);
      const f = file_create(k, "ext4file", 1, true);
      mmap_region(mm, 0, 1, VM_READ | VM_WRITE | VM_SHARED | VM_MAYWRITE, f);
      const [pfn] = populate(k, mm, 0, 1);
      const gpu = new MirrorGpu(k, mm);
      const pages: number[] = [];
      let got = 0;
      return {
        threads: {
          Drv: function* () {
            yield* mm.mmapLock.downRead();
            got = era.pinTracking
              ? yield* pin_user_pages(k, mm, 0, 1, FOLL_WRITE | FOLL_LONGTERM, pages)
              : yield* get_user_pages(k, mm, 0, 1, FOLL_WRITE, pages); // get_user_pages_longterm: fs-dax only
            yield* mm.mmapLock.upRead();
            if (got <= 0) return;
            yield* gpu.map(0, pages);
            yield* gpu.write(0);
            yield* gpu.unmap(0, 1);
            yield* set_page_dirty_lock(k, pages[0]);
            if (era.pinTracking) yield* unpin_user_page(k, pages[0]);
            else yield* put_page(k, pages[0]);
          },
          Flusher: function* () {
            yield* writeback_page(k, f, 0);
            yield* shrink_folio_list(k, pfn, GFP_KERNEL, true);
          },
        },
        final: () => got,
      };
    });
  it("E18: dirty-no-buffers Sometimes", () => {
    claim({ id: "S7/E18", title: "dirty without buffers", model: s7(E18), predicate: (e) => e.has("dirty-no-buffers"), expect: "Sometimes" });
  });
  it("now: FOLL_LONGTERM|FOLL_WRITE refused at pin time: Never, and the pin always fails", () => {
    claim({ id: "S7/now", title: "dirty without buffers", model: s7(ENOW), predicate: (e) => e.has("dirty-no-buffers"), expect: "Never" });
    claim({ title: "refused", model: s7(ENOW), predicate: (e) => e.final < 0, expect: "Always" });
  });
});

// ---------------------------------------------------------------------------------------------
describe("S8 OOM reaper vs a blocking notifier", () => {
  const s8 = (era: Era, broken = false) =>
    model(`S8 (${era.name}${broken ? ", sleeps when not blockable" : ""})`, () => {
      const k = boot(era);
      const mm = mm_alloc(k, 8);
      mmap_region(mm, 0, 1);
      populate(k, mm, 0, 1);
      const drv = new KMutex(k, "drv->lock");
      hook(mm, new MmuNotifier({
        name: "gpu_mn",
        *invalidate_range_start(_s, r) {
          if (!r.blockable && !broken) {
            if (!(yield* drv.trylock())) return EAGAIN;
          } else yield* drv.lock();
          yield* drv.unlock();
          return 0;
        },
      }));
      let reaped = false;
      // Attempts made: each begins with mmap_read_trylock.
      let attempts = 0;
      const trylock = mm.mmapLock.downReadTrylock.bind(mm.mmapLock);
      mm.mmapLock.downReadTrylock = (...a: Parameters<typeof trylock>) => { attempts++; return trylock(...a); };
      return {
        threads: {
          Reaper: function* () { reaped = yield* oom_reap_task(k, mm, 2); },
          CS: function* () { yield* drv.lock(); yield* drv.unlock(); },
        },
        final: () => ({ reaped, attempts }),
      };
    });
  it("E18: the reaper skips the mm entirely (Always fails), after one attempt: v4.16 makes no second", () => {
    claim({ id: "S8/E18", title: "reap fails", model: s8(E18), predicate: (e) => e.has("oom-reap-failed") && !e.final.reaped, expect: "Always" });
    claim({ id: "S8/E18", title: "one attempt", model: s8(E18), predicate: (e) => e.final.attempts === 1, expect: "Always" });
  });
  it("now: the callback trylocks; -EAGAIN skips the VMA and is retried (Sometimes fails, Sometimes reaps)", () => {
    claim({ id: "S8/now", title: "reaped", model: s8(ENOW), predicate: (e) => e.final.reaped, expect: "Sometimes" });
    claim({ id: "S8/now", title: "retried after a failed attempt", model: s8(ENOW), predicate: (e) => e.final.attempts === 2, expect: "Sometimes" });
    claim({ title: "sleep in nonblock never", model: s8(ENOW), predicate: (e) => e.has("sleep-in-atomic"), expect: "Never" });
    claim({ title: "broken: mutex_lock when !blockable", model: s8(ENOW, true), predicate: (e) => e.has("sleep-in-atomic"), expect: "Always" });
  });
});

// ---------------------------------------------------------------------------------------------
describe("S9 migration vs a pinned page", () => {
  // The reference's S9 says "compaction"; compaction skips an anon page whose refcount exceeds its
  // mapcount before isolating it (119d6d59dcc0, v3.15), so the spurious invalidation of S9 comes
  // from move_pages/mbind/offlining, or from a GUP reference taken after compaction's racy check.
  const s9 = (era: Era, withRef: boolean, reason: MigrateReason = "move_pages") =>
    model(`S9 (${era.name}, ${withRef ? "GUP ref" : "no ref"}, ${reason})`, () => {
      const k = boot(era);
      const mm = mm_alloc(k, 8);
      mmap_region(mm, 0, 1);
      const [pfn] = populate(k, mm, 0, 1);
      let invalidations = 0;
      hook(mm, new MmuNotifier({ name: "mirror", *invalidate_range_start() { invalidations++; return 0; } }));
      if (withRef) {
        k.mem.ref[pfn]++;
        k.mem.gets[pfn]++;
      }
      let r = 0;
      return {
        threads: { Migrate: function* () { r = yield* migrate_page(k, pfn, 1, reason); } },
        final: () => ({ r, invalidations, same: mm.cpuPfn(0) === pfn }),
      };
    });
  for (const era of [E18, ENOW]) {
    it(`${era.name}: a GUP reference aborts move_pages after a spurious invalidation; PTE restored`, () => {
      claim({ id: `S9/${era.name}`, title: "aborted", model: s9(era, true), predicate: (e) => e.has("migrate-aborted") && e.final.invalidations > 0 && e.final.same, expect: "Always" });
      claim({ title: "near miss: no reference, migrated", model: s9(era, false), predicate: (e) => e.final.r === 0 && !e.final.same, expect: "Always" });
    });
    it(`${era.name}: compaction skips the referenced anon page before isolating it: no invalidation`, () => {
      claim({ title: "skipped", model: s9(era, true, "compaction"), predicate: (e) => e.final.r === -16 && e.final.invalidations === 0 && e.final.same, expect: "Always" });
      claim({ title: "near miss: no reference, compaction migrates", model: s9(era, false, "compaction"), predicate: (e) => e.final.r === 0 && !e.final.same, expect: "Always" });
    });
  }
});

// ---------------------------------------------------------------------------------------------
describe("S14 khugepaged vs a mirror", () => {
  const s14 = (era: Era, gup: "none" | "before" | "concurrent" | "page-locked") =>
    model(`S14 (${era.name}, gup ${gup})`, () => {
      const k = boot(era);
      const mm = mm_alloc(k, 8);
      mmap_region(mm, 0, 4);
      populate(k, mm, 0, 4);
      const pages: number[] = [];
      if (gup === "before") {
        const p = mm.ptePfn[1];
        k.mem.ref[p]++;
        k.mem.gets[p]++;
      }
      let collapsed = false;
      const threads: Record<string, () => Gen<void>> = { Khugepaged: function* () { collapsed = yield* khugepaged_scan_pmd(k, mm, 0); } };
      if (gup === "page-locked") {
        // A task holds page 1's lock across the collapse (lock_page with no reference kept: the
        // refcount check alone would let the collapse through).
        const lock = k.pageLock(mm.ptePfn[1]);
        threads.Locker = function* () { yield* lock.lock(); yield* lock.unlock(); };
      }
      if (gup === "concurrent")
        threads.Drv = function* () {
          yield* mm.mmapLock.downRead();
          yield* get_user_pages(k, mm, 1, 1, 0, pages);
          yield* mm.mmapLock.upRead();
        };
      return { threads, final: () => collapsed };
    });
  for (const era of [E18, ENOW])
    it(`${era.name}: a GUP reference aborts the collapse`, () => {
      claim({ id: `S14/${era.name}`, title: "aborted", model: s14(era, "before"), predicate: (e) => e.has("collapse-aborted") && !e.final, expect: "Always" });
      claim({ title: "near miss: no reference, collapsed", model: s14(era, "none"), predicate: (e) => e.final, expect: "Always" });
      claim({ title: "concurrent GUP: sometimes aborts", model: s14(era, "concurrent"), predicate: (e) => e.has("collapse-aborted"), expect: "Sometimes" });
      claim({ title: "a locked page: trylock_page fails and the collapse aborts, sometimes", model: s14(era, "page-locked"), predicate: (e) => e.has("collapse-aborted") && !e.final, expect: "Sometimes" });
    });

  it("now: an mni mirror re-faulting during the collapse waits on mmap_lock and never installs a stale page", () => {
    const m = model("S14 mirror", () => {
      const k = boot(ENOW);
      const mm = mm_alloc(k, 8);
      mmap_region(mm, 0, 4);
      populate(k, mm, 0, 4);
      const gpu = new MirrorGpu(k, mm);
      const lock = new KMutex(k, "drv->notifier_lock");
      const sub = new MmuIntervalNotifier(0, 4, {
        name: "mirror",
        *invalidate(s, r, cur) { yield* lock.lock(); yield* mmu_interval_set_seq(k, s, cur); yield* gpu.unmap(r.start, r.end); yield* lock.unlock(); return true; },
      });
      hookInterval(mm, sub);
      return {
        threads: {
          Khugepaged: function* () { yield* khugepaged_scan_pmd(k, mm, 0); },
          Mirror: function* () {
            const pfns = new Int32Array(4);
            for (let i = 0; i < 3; i++) {
              const seq = yield* mmu_interval_read_begin(k, sub);
              yield* mm.mmapLock.downRead();
              const r = yield* hmm_range_fault(k, { notifier: sub, notifier_seq: seq, start: 0, end: 4, hmm_pfns: pfns, fault: true, write: false });
              yield* mm.mmapLock.upRead();
              if (r === EBUSY) continue;
              yield* lock.lock();
              if (yield* mmu_interval_read_retry(k, sub, seq)) { yield* lock.unlock(); continue; }
              yield* gpu.map(0, pfns);
              yield* lock.unlock();
              return;
            }
          },
        },
      };
    });
    claim({ id: "S14/mirror", title: "no stale install, no uaf", model: m, predicate: (e) => e.has("stale-install") || e.has("uaf"), expect: "Never" });
  });
});

export { check };
