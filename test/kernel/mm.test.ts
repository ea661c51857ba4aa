// Contracts of faults, GUP, munmap, DONTNEED, mprotect and fork (kernel-semantics §6–§10, §19).
import { describe, it } from "vitest";
import { claim, model } from "../../lib/explorer/index.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import { E18, ENOW, ERAS } from "../../lib/kernel/era.ts";
import { mm_alloc, mmap_region } from "../../lib/kernel/mm.ts";
import { user_read, user_write } from "../../lib/kernel/user.ts";
import { FOLL_WRITE, get_user_pages, pin_user_pages, put_page } from "../../lib/kernel/gup.ts";
import { munmap } from "../../lib/kernel/munmap.ts";
import { madvise_dontneed } from "../../lib/kernel/madvise.ts";
import { mprotect, PROT_READ, PROT_WRITE } from "../../lib/kernel/mprotect.ts";
import { MmuNotifier } from "../../lib/kernel/mmu-notifier.ts";
import { fork } from "../../lib/kernel/fork.ts";
import { conservationErrors } from "../../lib/kernel/oracles.ts";
import { CPU_WRITE_ID } from "../../lib/kernel/page.ts";

const one = (title: string, m: ReturnType<typeof model<any>>, p: (f: any) => boolean) =>
  claim({ title, model: m, predicate: (e) => p(e.final), expect: "Always" });

describe.each(ERAS)("faults and GUP ($name)", (era) => {
  it("a write fault maps a new anon page; a read sees the write", () => {
    const m = model("fault", () => {
      const k = boot(era);
      const mm = mm_alloc(k, 8);
      mmap_region(mm, 0, 2);
      let w = -1, r = -1;
      return {
        threads: { P: function* () { w = yield* user_write(k, mm, 0); r = yield* user_read(k, mm, 0); } },
        final: () => ({ w, r, pfn: mm.cpuPfn(0), ref: k.mem.ref[mm.cpuPfn(0)], map: k.mem.mapcount[mm.cpuPfn(0)], cons: conservationErrors(k) }),
      };
    });
    one("write then read", m, (f) => f.w === CPU_WRITE_ID && (f.r & (1 << CPU_WRITE_ID)) !== 0 && f.pfn > 0 && f.ref === 1 && f.map === 1 && f.cons.length === 0);
  });

  it("a read fault maps the zero page; a write then COWs to a new page", () => {
    const m = model("zero", () => {
      const k = boot(era);
      const mm = mm_alloc(k, 8);
      mmap_region(mm, 0, 1);
      const seen: number[] = [];
      return {
        threads: { P: function* () { yield* user_read(k, mm, 0); seen.push(mm.cpuPfn(0)); yield* user_write(k, mm, 0); seen.push(mm.cpuPfn(0)); } },
        final: () => seen,
      };
    });
    one("zero then copy", m, (f) => f[0] === 0 && f[1] > 0);
  });

  it("GUP(write) takes a reference that keeps the page after munmap (C00.1: never freed while held)", () => {
    const m = model("gup+munmap", () => {
      const k = boot(era);
      const mm = mm_alloc(k, 8);
      mmap_region(mm, 0, 2);
      const pages: number[] = [];
      let freedWhileHeld = false;
      return {
        threads: {
          Drv: function* () {
            yield* mm.mmapLock.downRead();
            yield* get_user_pages(k, mm, 0, 1, FOLL_WRITE, pages);
            yield* mm.mmapLock.upRead();
          },
          P: function* () { yield* munmap(k, mm, 0, 2); },
        },
        final: () => {
          if (pages.length && k.mem.ref[pages[0]] === 0) freedWhileHeld = true;
          return { freedWhileHeld, n: pages.length, cons: conservationErrors(k) };
        },
      };
    });
    claim({ title: "C00.1", model: m, predicate: (e) => e.final.freedWhileHeld || e.final.cons.length > 0, expect: "Never" });
    claim({ title: "munmap may come first: GUP fails", model: m, predicate: (e) => e.final.n === 0, expect: "Sometimes" });
  });

  it("put_page after munmap frees the page; no leak", () => {
    const m = model("gup put", () => {
      const k = boot(era);
      const mm = mm_alloc(k, 8);
      mmap_region(mm, 0, 1);
      const pages: number[] = [];
      return {
        threads: {
          P: function* () {
            yield* mm.mmapLock.downRead();
            yield* get_user_pages(k, mm, 0, 1, FOLL_WRITE, pages);
            yield* mm.mmapLock.upRead();
            yield* munmap(k, mm, 0, 1);
            yield* put_page(k, pages[0]);
          },
        },
        final: () => k.mem.isFree(pages[0]),
      };
    });
    one("freed", m, (f) => f === true);
  });

  it("DONTNEED: the next access gets a new zero-filled page", () => {
    const m = model("dontneed", () => {
      const k = boot(era);
      const mm = mm_alloc(k, 8);
      mmap_region(mm, 0, 1);
      let before = -1, after = -1, data = -1;
      return {
        threads: {
          P: function* () {
            yield* user_write(k, mm, 0);
            before = mm.cpuPfn(0);
            yield* madvise_dontneed(k, mm, 0, 1);
            data = yield* user_read(k, mm, 0);
            after = mm.cpuPfn(0);
          },
        },
        final: () => ({ before, after, data }),
      };
    });
    one("zero page after", m, (f) => f.before > 0 && f.after === 0 && f.data === 0);
  });

  it("mprotect(PROT_READ): a CPU write afterwards faults and fails", () => {
    const m = model("mprotect", () => {
      const k = boot(era);
      const mm = mm_alloc(k, 8);
      mmap_region(mm, 0, 1);
      let r = 0;
      return {
        threads: { P: function* () { yield* user_write(k, mm, 0); yield* mprotect(k, mm, 0, 1, PROT_READ); r = yield* user_write(k, mm, 0); } },
        final: () => ({ r, w: mm.writable(0), tlb: mm.tlbPfn[0] }),
      };
    });
    one("segv", m, (f) => f.r === -2 && !f.w && f.tlb === -1);
  });

  it("mprotect to the protection a VMA already has calls no notifier (mprotect_fixup returns early)", () => {
    const m = (prot: number) => model(`mprotect ${prot}`, () => {
      const k = boot(era);
      const mm = mm_alloc(k, 8);
      mmap_region(mm, 0, 1);
      let calls = 0;
      const sub = new MmuNotifier({ name: "mirror", *invalidate_range_start() { calls++; return 0; } });
      sub.mm = mm;
      mm.notifiers.hlist.push(sub);
      return {
        threads: { P: function* () { yield* user_write(k, mm, 0); yield* mprotect(k, mm, 0, 1, prot); } },
        final: () => calls,
      };
    });
    one("unchanged: no call", m(PROT_READ | PROT_WRITE), (calls) => calls === 0);
    one("write-protect: one call", m(PROT_READ), (calls) => calls === 1);
  });

  it("fork: parent and child share the page read-only; the child's write copies", () => {
    const m = model("fork cow", () => {
      const k = boot(era);
      const p = mm_alloc(k, 8, "parent"), c = mm_alloc(k, 8, "child");
      mmap_region(p, 0, 1);
      const s: number[] = [];
      return {
        threads: {
          P: function* () {
            yield* user_write(k, p, 0);
            yield* fork(k, p, c);
            s.push(p.cpuPfn(0), c.cpuPfn(0), k.mem.mapcount[p.cpuPfn(0)]);
            yield* user_write(k, c, 0);
            s.push(p.cpuPfn(0), c.cpuPfn(0));
          },
        },
        final: () => s,
      };
    });
    one("cow", m, (f) => f[0] === f[1] && f[2] === 2 && f[3] === f[0] && f[4] !== f[0]);
  });
});

describe("eras differ", () => {
  it("2018: pinned buffer + fork + parent write = parent gets a copy; now: parent keeps the page", () => {
    const mk = (era: typeof E18) =>
      model("S1 core", () => {
        const k = boot(era);
        const p = mm_alloc(k, 8, "parent"), c = mm_alloc(k, 8, "child");
        mmap_region(p, 0, 1);
        const pages: number[] = [];
        let after = -1;
        return {
          threads: {
            P: function* () {
              yield* user_write(k, p, 0);
              yield* p.mmapLock.downRead();
              yield* (era.pinTracking ? pin_user_pages : get_user_pages)(k, p, 0, 1, FOLL_WRITE, pages);
              yield* p.mmapLock.upRead();
              yield* fork(k, p, c);
              yield* user_write(k, p, 0);
              after = p.cpuPfn(0);
            },
          },
          final: () => after === pages[0],
        };
      });
    one("E18 diverges", mk(E18), (f) => f === false);
    one("now keeps", mk(ENOW), (f) => f === true);
  });
});

