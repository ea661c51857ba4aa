// Every field footprint the kernel records (FieldLog.end(): the fields a split step read and
// wrote, in first-touch order, or null when it tripped) on a fixed set of generated programs,
// against a golden made with the proxy recorder of main at 3c5832e, before the recorder was made
// cheaper (issue 13, goal 4): a faster recorder must record exactly the same footprints, step by
// step, or DPOR's reduction (and its soundness argument) changes. UPDATE_FIELD_GOLDEN=1 rewrites
// the golden; only do so for a change that means to change footprints, and say why. Rewritten
// since: the page_freed probe (the dirty-after-return mark dies with its frame) makes a free
// read the frame's mark (16 of the 52 programs' sequences changed); the wake rule (dpor.ts
// header, "Wakes") explores more executions of the same programs, so 38 of the 52 sequences
// changed (December 2026; the recorder did not change); the COW reuse check
// (wp_can_reuse_anon_folio) takes the page lock in a step of its own, with its checks split
// before and after it, and the zero page is known by its frame number (December 2026); that
// locked check re-reads the PTE and, as folio_free_swap, the swap cache (December 2026); GUP-fast
// reads fork's write_protect_seq only for FOLL_PIN, as mm/gup.c does, so a FOLL_GET walk's PTE
// read no longer names it (the two "dontneed + gup-fast" sequences; executions and steps equal);
// do_wp_page takes no page reference before it decides, reuses an exclusive page in its first
// step, and trylocks, decides and unlocks in one step with the PTE check, a split step that also
// takes the page lock (Op.also), as the kernel does all of it under the PTE lock; and a pruned
// run race-checks its blocked threads' pending steps (8 of the 52 sequences since 0b02c84); the
// device oracles count callback returns and invalidation starts per page (commutative updates,
// lib/kernel/page-counts.ts) instead of stamping them and every install with one global epoch,
// and making their state inside a split step no longer trips it (41 of the 52 sequences: the
// epoch's field is gone from every install, return and start; executions 7,990 -> 7,810); a
// memory step declared "r" that is not split is recorded too and, writing no recorded field,
// reads all of memory instead of writing it, and a sleeper that ran as a whole-memory write is
// re-opened when a field write wakes it (FieldRecorder.anyWrite, dpor.ts wholeWriteWoken; the
// generator's "look up pfn" reads: 16 of the 52 sequences, executions 7,810 -> 7,275); the test
// device's table is recorded (lib/kernel/mirror-gpu.ts, field-log.ts SPACE_DEV), so its map, unmap
// and DMA write are split steps where they wrote all of memory (8 of the 52 sequences, the
// programs with a GPU map or an invalidation; executions 7,275 -> 7,260); a put_page that does not
// free, and is its step's first touch of the count, records a commutative update of it instead of
// a read and a write (lib/kernel/page.ts putPage; 16 of the 52 sequences, executions 7,260 -> 7,048);
// a frame's dirty and referenced bits are set as the kernel's callers set them, tested first and
// stored only when clear (PhysMem.setFlag), so zapping a dirty PTE of a frame already dirty reads
// its flags instead of writing them (the two "munmap + pin" sequences; executions 7,048 -> 7,046);
// a munmap or a COW break no longer moves a PTE's dirty and young bits to an anonymous page, which
// the kernel's zap_pte_range and wp_page_copy never do (pgtable.ts removeRmap; 14 of the 52
// sequences, executions 7,046 -> 6,937).
import { readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { check } from "../../lib/explorer/index.ts";
import { fnv1a } from "../../lib/explorer/fnv.ts";
import { opIndex, program } from "./field-programs.ts";

const GOLDEN = new URL("./field-foot-golden.json", import.meta.url);

/** The programs: seeds 1..24 of the generator, and seeds 1..2 with each forced operation pair. */
const FORCED = [["gpu job"], ["gpu job", "gpu unmap+flush"], ["wrprotect+unprotect"], ["fork"], ["gpu map+write", "wrprotect+unprotect"], ["dontneed"], ["dontneed", "gup-fast"], ["munmap", "pin"], ["iommu job", "iommu unmap+remap"], ["iommu bind", "iommu unmap+remap"], ["lazy iommu job", "lazy iommu unmap+flush"], ["iommu job", "dontneed"], ["invalidate"], ["gpu map+write"]];
function cases(): { name: string; seed: number; forced: number[] }[] {
  const out = [];
  for (let seed = 1; seed <= 24; seed++) out.push({ name: `seed ${seed}`, seed, forced: [] });
  for (const f of FORCED) for (let seed = 1; seed <= 2; seed++) out.push({ name: `${f.join(" + ")} seed ${seed}`, seed, forced: f.map(opIndex) });
  return out;
}

/** Every footprint recorded while DPOR on fields searches the program (budget 600 executions, for
 *  CI time; 3 000 before December 2026): how many, how many tripped, and a digest of the whole
 *  sequence. */
function footprints(seed: number, forced: number[], drop?: (field: string) => boolean): { steps: number; tripped: number; digest: number; executions: number } {
  const seen: string[] = [];
  let tripped = 0;
  const p = program(seed, drop, forced, (fl) => {
    const end = fl.end.bind(fl);
    fl.end = () => {
      const r = end();
      if (r === null) tripped++;
      seen.push(r === null ? "x" : r.join(","));
      return r;
    };
  });
  const r = check({ title: p.text, model: p.model, predicate: () => false, expect: "Never", search: { strategy: "dpor", fields: true }, budget: { executions: 600 } });
  return { steps: seen.length, tripped, digest: fnv1a(seen.join(";")), executions: r.stats.executions };
}

describe("field footprints are recorded as by the reference recorder", () => {
  it("records the golden footprint sequence of every program", () => {
    const got: Record<string, ReturnType<typeof footprints>> = {};
    for (const c of cases()) got[c.name] = footprints(c.seed, c.forced);
    if (process.env.UPDATE_FIELD_GOLDEN === "1") writeFileSync(GOLDEN, JSON.stringify(got, null, 1) + "\n");
    const golden = JSON.parse(readFileSync(GOLDEN, "utf8")) as typeof got;
    expect(got).toEqual(golden);
  }, 300_000);

  it("a recorder that drops a field changes the sequence (the comparison can fail)", () => {
    const golden = JSON.parse(readFileSync(GOLDEN, "utf8")) as Record<string, ReturnType<typeof footprints>>;
    const c = cases()[0];
    expect(footprints(c.seed, c.forced, (f) => /\.contents$/.test(f)).digest).not.toBe(golden[c.name].digest);
  }, 300_000);
});
