// PhysMem.isZeroPage (page.ts) answers "is this the shared zero page?" from the frame number alone:
// frame 0 gets PG_ZERO at boot and keeps it, no other frame ever gets it. Field footprints rely on
// that (the answer is immutable, so reading it records nothing). Held here over every schedule of
// a program that maps the zero page by read faults, writes over it (COW from the zero page),
// forks, zaps and reclaims, checked in the final state of every schedule with at most one preemption
// (exhaustively it is over 20,000 executions: every fault path is dozens of steps).
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { check, model } from "../../lib/explorer/index.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import { ENOW } from "../../lib/kernel/era.ts";
import { mm_alloc, mmap_region } from "../../lib/kernel/mm.ts";
import { PG_ZERO } from "../../lib/kernel/page.ts";
import { user_read, user_write } from "../../lib/kernel/user.ts";
import { madvise_dontneed } from "../../lib/kernel/madvise.ts";
import { fork } from "../../lib/kernel/fork.ts";
import { swapon } from "../../lib/kernel/swap.ts";
import { try_to_free_pages } from "../../lib/kernel/vmscan.ts";
import { GFP_KERNEL } from "../../lib/kernel/gfp.ts";

describe("the zero page is frame 0 and only frame 0", () => {
  it("in every final state (at most one preemption) of a program that maps, copies, forks, zaps and reclaims around it", () => {
    const m = model("zero page", () => {
      const k = boot(ENOW);
      swapon(k, 4);
      const mm = mm_alloc(k, 2, "p"), child = mm_alloc(k, 2, "c");
      mmap_region(mm, 0, 2);
      return {
        threads: {
          A: function* () { yield* user_read(k, mm, 0); yield* user_write(k, mm, 0); yield* user_read(k, mm, 1); },
          B: function* () { yield* fork(k, mm, child); yield* madvise_dontneed(k, mm, 0, 1); yield* try_to_free_pages(k, GFP_KERNEL); },
        },
        final: () => {
          const bad: number[] = [];
          for (let pfn = 0; pfn < k.mem.nframes; pfn++) if (((k.mem.flags[pfn] & PG_ZERO) !== 0) !== k.mem.isZeroPage(pfn)) bad.push(pfn);
          return bad;
        },
      };
    });
    const r = check({ title: "zero page", model: m, predicate: (e) => e.final.length > 0, expect: "Never", search: { strategy: "bounded", preemptions: 1 }, budget: { executions: 20_000 } });
    expect(r.observed).toBe("Never");
    expect(r.complete).toBe(true);
    expect(r.stats.executions).toBeGreaterThan(10);
  }, 120_000);

  it("no code but PhysMem's constructor names PG_ZERO (nothing else can set, clear or read it)", () => {
    const root = new URL("../../", import.meta.url);
    const files = [...readdirSync(new URL("lib/kernel/", root)).filter((f) => f.endsWith(".ts")).map((f) => `lib/kernel/${f}`),
      ...readdirSync(new URL("chapters/", root)).filter((f) => f.endsWith(".md")).map((f) => `chapters/${f}`)];
    const uses: string[] = [];
    for (const f of files)
      readFileSync(new URL(f, root), "utf8").split("\n").forEach((line, i) => {
        if (!/\bPG_ZERO\b/.test(line) || /^\s*(\/\/|\*|\/\*\*)/.test(line)) return;
        if (f === "lib/kernel/page.ts" && (/^export const PG_ZERO = /.test(line) || /this\.flags\[0\] = PG_ZERO/.test(line))) return;
        uses.push(`${f}:${i + 1}: ${line.trim()}`);
      });
    expect(uses).toEqual([]);
  });
});
