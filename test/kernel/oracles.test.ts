// Each oracle: a scenario it must catch and a near miss it must not (kernel-semantics §28).
import { describe, it } from "vitest";
import { claim, model, SharedVar } from "../../lib/explorer/index.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import { E18, ENOW, ERAS, era, type Era } from "../../lib/kernel/era.ts";
import { mm_alloc, mmap_region } from "../../lib/kernel/mm.ts";
import { populate } from "../../lib/kernel/populate.ts";
import { user_write } from "../../lib/kernel/user.ts";
import { munmap } from "../../lib/kernel/munmap.ts";
import { madvise_dontneed } from "../../lib/kernel/madvise.ts";
import { mprotect, PROT_READ } from "../../lib/kernel/mprotect.ts";
import { MmuNotifier, MmuIntervalNotifier, mmu_interval_read_retry, mmu_interval_set_seq } from "../../lib/kernel/mmu-notifier.ts";
import { KMutex } from "../../lib/kernel/mutex.ts";
import { EBUSY } from "../../lib/kernel/ww-mutex.ts";
import { FOLL_WRITE, get_user_pages, pin_user_pages, put_page, set_page_dirty, unpin_user_page } from "../../lib/kernel/gup.ts";
import { divergenceOf } from "../../lib/kernel/oracles.ts";
import { HW_CPU_TLB } from "../../lib/kernel/page.ts";
import { clearPte } from "../../lib/kernel/pgtable.ts";
import { MirrorGpu } from "../../lib/kernel/mirror-gpu.ts";
import { alloc_page, GFP_KERNEL } from "../../lib/kernel/gfp.ts";

describe("uaf through a CPU TLB", () => {
  const m = (flushFirst: boolean) =>
    model(`tlb uaf (${flushFirst ? "flush, then free" : "free before flush"})`, () => {
      const k = boot(E18);
      const mm = mm_alloc(k, 8);
      mmap_region(mm, 0, 1);
      const [pfn] = populate(k, mm, 0, 1);
      return {
        threads: {
          T: function* () {
            yield* user_write(k, mm, 0); // fills the TLB
            if (flushFirst) yield* munmap(k, mm, 0, 1);
            else
              yield* k.mem.step("broken zap: clear the PTE and free without a flush", "w", () => {
                clearPte(mm, 0);
                k.mem.mapcount[pfn]--;
                k.mem.putPage(pfn);
              });
          },
        },
        final: () => k.mem.hwCount(pfn, HW_CPU_TLB),
      };
    });
  it("freeing before the TLB flush is a uaf; munmap's gather is not", () => {
    claim({ title: "catch", model: m(false), predicate: (e) => e.has("uaf"), expect: "Always" });
    claim({ title: "near miss", model: m(true), predicate: (e) => e.has("uaf"), expect: "Never" });
  });
});

describe("divergence with its cause", () => {
  it("GUP ref + MADV_DONTNEED + CPU write: divergence caused by the process", () => {
    const m = model("dontneed divergence", () => {
      const k = boot(E18);
      const mm = mm_alloc(k, 8);
      mmap_region(mm, 0, 1);
      populate(k, mm, 0, 1);
      const pages: number[] = [];
      return {
        threads: {
          T: function* () {
            yield* mm.mmapLock.downRead();
            yield* get_user_pages(k, mm, 0, 1, FOLL_WRITE, pages);
            yield* mm.mmapLock.upRead();
            yield* madvise_dontneed(k, mm, 0, 1);
            yield* user_write(k, mm, 0);
          },
        },
        final: () => ({ d: divergenceOf(mm, 0, pages[0]) }),
      };
    });
    claim({ title: "catch", model: m, predicate: (e) => e.final.d === "process: MADV_DONTNEED", expect: "Always" });
  });
  it("near miss: no change to the mapping, no divergence", () => {
    const m = model("no divergence", () => {
      const k = boot(E18);
      const mm = mm_alloc(k, 8);
      mmap_region(mm, 0, 1);
      const [p] = populate(k, mm, 0, 1);
      return { threads: { T: function* () { yield* user_write(k, mm, 0); } }, final: () => ({ d: divergenceOf(mm, 0, p) }) };
    });
    claim({ title: "near miss", model: m, predicate: (e) => e.final.d !== null, expect: "Never" });
  });
});

describe("ro-write", () => {
  const m = (tearDown: boolean) =>
    model(`ro-write (${tearDown ? "mirror invalidates" : "pinned mapping kept"})`, () => {
      const k = boot(ENOW);
      const mm = mm_alloc(k, 8);
      mmap_region(mm, 0, 1);
      const [p] = populate(k, mm, 0, 1);
      const gpu = new MirrorGpu(k, mm);
      const sub = new MmuIntervalNotifier(0, 1, { name: "mirror", *invalidate(s, r, cur) { yield* mmu_interval_set_seq(k, s, cur); if (tearDown) yield* gpu.unmap(r.start, r.end); return true; } });
      sub.mm = mm;
      sub.invalidateSeq = 1;
      mm.notifiers.itree.push(sub);
      mm.notifiers.hasItree = true; // as the first interval registration leaves it (has_itree)
      return {
        threads: {
          T: function* () {
            yield* gpu.map(0, [p]);
            yield* mprotect(k, mm, 0, 1, PROT_READ);
            yield* gpu.write(0);
          },
        },
      };
    });
  it("a device write after mprotect(PROT_READ) returned is caught; a mirror that invalidates is not", () => {
    claim({ title: "catch", model: m(false), predicate: (e) => e.has("ro-write"), expect: "Always" });
    claim({ title: "near miss", model: m(true), predicate: (e) => e.has("ro-write"), expect: "Never" });
  });
});

describe("dirty-after-return", () => {
  const m = (inCallback: boolean) =>
    model(`dirty ${inCallback ? "inside the callback" : "after it returned"}`, () => {
      const k = boot(E18);
      const mm = mm_alloc(k, 8);
      mmap_region(mm, 0, 1);
      populate(k, mm, 0, 1);
      const pages: number[] = [];
      const sub = new MmuNotifier({ name: "drv", *invalidate_range_start() { if (inCallback) yield* set_page_dirty(k, pages[0]); return 0; } });
      sub.mm = mm;
      mm.notifiers.hlist.push(sub);
      return {
        threads: {
          T: function* () {
            yield* mm.mmapLock.downRead();
            yield* get_user_pages(k, mm, 0, 1, FOLL_WRITE, pages);
            yield* mm.mmapLock.upRead();
            yield* madvise_dontneed(k, mm, 0, 1);
            if (!inCallback) yield* set_page_dirty(k, pages[0]);
            yield* put_page(k, pages[0]);
          },
        },
      };
    });
  // The mark lives for one life of the frame: freed (and reused) frames start unmarked, as the
  // page flag it used to be was wiped at free_pages (page.ts freeFrame).
  const reused = model("dirty a reused frame", () => {
    const k = boot(E18);
    const mm = mm_alloc(k, 8);
    mmap_region(mm, 0, 1);
    populate(k, mm, 0, 1);
    const sub = new MmuNotifier({ name: "drv", *invalidate_range_start() { return 0; } });
    sub.mm = mm;
    mm.notifiers.hlist.push(sub);
    return {
      threads: {
        T: function* () {
          // The zap inside the invalidation frees the only reference: the frame goes back to the
          // free list marked; the allocator hands the same frame out again, and it is dirtied.
          yield* madvise_dontneed(k, mm, 0, 1);
          const pfn = yield* alloc_page(k, GFP_KERNEL);
          yield* set_page_dirty(k, pfn);
        },
      },
    };
  });
  it("a freed and reused frame is not reported: the mark dies with the frame", () => {
    claim({ title: "reused", model: reused, predicate: (e) => e.has("dirty-after-return"), expect: "Never" });
  });
  it("dirtying after the invalidation removed the mapping is caught; dirtying inside the callback is not", () => {
    claim({ title: "catch", model: m(false), predicate: (e) => e.has("dirty-after-return"), expect: "Always" });
    claim({ title: "near miss", model: m(true), predicate: (e) => e.has("dirty-after-return"), expect: "Never" });
  });
});

describe("refcount: FOLL_PIN released with put_page", () => {
  const m = (right: boolean) =>
    model(`pin released by ${right ? "unpin_user_page" : "put_page"}`, () => {
      const k = boot(ENOW);
      const mm = mm_alloc(k, 8);
      mmap_region(mm, 0, 1);
      populate(k, mm, 0, 1);
      const pages: number[] = [];
      return {
        threads: {
          T: function* () {
            yield* mm.mmapLock.downRead();
            yield* pin_user_pages(k, mm, 0, 1, FOLL_WRITE, pages);
            yield* mm.mmapLock.upRead();
            if (right) yield* unpin_user_page(k, pages[0]);
            else yield* put_page(k, pages[0]);
          },
        },
      };
    });
  it("caught; near miss not", () => {
    claim({ title: "catch", model: m(false), predicate: (e) => e.has("refcount"), expect: "Always" });
    claim({ title: "near miss", model: m(true), predicate: (e) => e.has("refcount"), expect: "Never" });
  });
});

describe.each(ERAS)("notifier-protocol ($name)", (era) => {
  it("a blockable interval invalidate must not return false; set_seq with an even seq is reported", () => {
    if (!era.intervalNotifier) return;
    const m = model("protocol", () => {
      const k = boot(era);
      const mm = mm_alloc(k, 8);
      mmap_region(mm, 0, 1);
      populate(k, mm, 0, 1);
      const sub = new MmuIntervalNotifier(0, 1, { name: "bad", *invalidate(s) { yield* mmu_interval_set_seq(k, s, 2); return false; } });
      sub.mm = mm;
      sub.invalidateSeq = 1;
      mm.notifiers.itree.push(sub);
      mm.notifiers.hasItree = true; // as the first interval registration leaves it (has_itree)
      return { threads: { T: function* () { yield* munmap(k, mm, 0, 1); } } };
    });
    claim({ title: "protocol", model: m, predicate: (e) => e.findings.filter((f) => f.kind === "notifier-protocol").length >= 2, expect: "Always" });
  });
});

// The lock held at mmu_interval_set_seq is recorded, and compared at mmu_interval_read_retry,
// inside those two steps (both on the mm's notifier subscriptions). Recorded in thread code
// before the set_seq step and read in thread code before the read_retry step (the tails of the
// two threads' preceding, unrelated steps), the check missed a read_retry that did see the
// invalidation when the reader's preceding step ran before the invalidator's.
describe("notifier-protocol: read_retry outside the set_seq lock", () => {
  it("is reported in every execution where read_retry saw the set_seq", () => {
    const m = model("retry unlocked after set_seq", () => {
      const k = boot(ENOW);
      const mm = mm_alloc(k, 8);
      mmap_region(mm, 0, 1);
      populate(k, mm, 0, 1);
      const nl = new KMutex(k, "notifier_lock");
      const other = new SharedVar("other", 0);
      const sub = new MmuIntervalNotifier(0, 1, {
        name: "drv",
        *invalidate(s, _r, cur) {
          yield* nl.lock();
          yield* mmu_interval_set_seq(k, s, cur);
          yield* nl.unlock();
          return true;
        },
      });
      sub.mm = mm;
      mm.notifiers.itree.push(sub);
      mm.notifiers.hasItree = true; // as the first interval registration leaves it (has_itree)
      let retried = false;
      return {
        threads: {
          P: function* () { yield* munmap(k, mm, 0, 1); },
          R: function* () {
            yield* other.write(1);
            retried = yield* mmu_interval_read_retry(k, sub, sub.invalidateSeq);
          },
        },
        final: () => ({ retried }),
      };
    });
    for (const strategy of ["dfs", "dpor"] as const) {
      claim({ title: `unreported (${strategy})`, model: m, predicate: (e) => e.final.retried && !e.has("notifier-protocol"), expect: "Never", search: { strategy } });
      claim({ title: `reported (${strategy})`, model: m, predicate: (e) => e.has("notifier-protocol"), expect: "Sometimes", search: { strategy } });
    }
  });
});

// A blockable invalidate_range_start that fails (i915@v5.4's callback when its unbind meets a
// pinned VMA: -EBUSY) is a WARN in every kernel since v5.4 ("mm/mmu_notifiers: check if mmu
// notifier callbacks are allowed to fail"), and nothing more: mmu_notifier_invalidate_range_start
// drops the return value, the caller zaps the PTEs and calls range_end. So the range is in flight
// until that range_end, and ends once: the model used to end it at the failed start as well, which
// left the page's in-flight count at -1 (stale-install and dirty-after-return read it).
/** munmap over a page whose one hlist subscriber fails every start with -EBUSY. */
const failingStart = (e: Era) => model(`blockable start fails (${e.name})`, () => {
  const k = boot(e);
  const mm = mm_alloc(k, 8);
  mmap_region(mm, 0, 1);
  populate(k, mm, 0, 1);
  const sub = new MmuNotifier({ name: "busy", *invalidate_range_start() { return EBUSY; } });
  sub.mm = mm;
  mm.notifiers.hlist.push(sub);
  return { threads: { T: function* () { yield* munmap(k, mm, 0, 1); } }, final: () => ({ inFlight: mm.invalActive[0] }) };
});

describe("notifier-protocol: a blockable start that fails", () => {
  it("is reported, and the range still ends once, at range_end", () => {
    claim({ title: "reported", model: failingStart(ENOW), predicate: (e) => e.has("notifier-protocol"), expect: "Always" });
    claim({ title: "ends once", model: failingStart(ENOW), predicate: (e) => e.final.inFlight !== 0, expect: "Never" });
  });
  it("is a WARN only since v5.4: v4.19-v5.3 print a line", () => {
    claim({ title: "silent", model: failingStart(era(ENOW, { notifierFailWarns: false }, "v4.19-warn")), predicate: (e) => e.has("notifier-protocol"), expect: "Never" });
  });
});
