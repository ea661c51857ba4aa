// lost-write on a shared file mapping (oracles.ts lostWrites) and ext4's writeback of a page
// without buffers (writeback.ts, Era.ext4SkipsBufferless). A device write to a page-cache page is
// safe only on disk or in a page a final writeback would write: dirty, with buffers. The oracle
// used to count any cached copy as safe, so a write into a page writeback had already cleaned, and
// that nothing dirtied again, was never lost (chapter 08's C08.3 could not fail).
import { describe, it } from "vitest";
import { claim, model } from "../../lib/explorer/index.ts";
import { boot, type Kernel } from "../../lib/kernel/kernel.ts";
import { E18, ENOW, type Era } from "../../lib/kernel/era.ts";
import { mm_alloc, mmap_region, VM_MAYWRITE, VM_READ, VM_SHARED, VM_WRITE, type Mm } from "../../lib/kernel/mm.ts";
import { populate } from "../../lib/kernel/populate.ts";
import { file_create } from "../../lib/kernel/file.ts";
import { set_page_dirty } from "../../lib/kernel/gup.ts";
import { writeback_page } from "../../lib/kernel/writeback.ts";
import { lostWrites } from "../../lib/kernel/oracles.ts";
import { PG_PRIVATE } from "../../lib/kernel/page.ts";

type Step = "device-write" | "writeback" | "dirty" | "drop-buffers";

/** One dirty page of an ext4-like file, mapped shared and writable; one thread does `steps`. */
const scenario = (era: Era, steps: readonly Step[]) =>
  model(`file page: ${steps.join(", ")} (${era.name})`, () => {
    const k: Kernel = boot(era);
    const mm: Mm = mm_alloc(k, 4, "proc");
    const f = file_create(k, "ext4file", 1, true);
    mmap_region(mm, 0, 1, VM_READ | VM_WRITE | VM_SHARED | VM_MAYWRITE, f);
    const [pfn] = populate(k, mm, 0, 1);
    return {
      threads: {
        T: function* () {
          for (const s of steps) {
            if (s === "device-write") yield* k.mem.step("GPU DMA write", "w", () => k.mem.writeFrame(pfn!, "device", k.mem.gen[pfn!]!, mm.id, 0, "job"));
            else if (s === "writeback") yield* writeback_page(k, f, 0);
            else if (s === "dirty") yield* set_page_dirty(k, pfn!);
            else yield* k.mem.step("try_to_release_page", "w", () => { k.mem.flags[pfn!] &= ~PG_PRIVATE; });
          }
        },
      },
      final: () => ({ lost: lostWrites(k).length }),
    };
  });

const lost = (e: { final: { lost: number } }) => e.final.lost > 0;
/** The finding writeback itself reports (set_page_dirty reports its own, without "writepage"). */
const writepageNoBuffers = (e: { findings: readonly { kind: string; message: string }[] }) =>
  e.findings.some((f) => f.kind === "dirty-no-buffers" && f.message.startsWith("writepage"));

describe.each([E18, ENOW])("a device write to a shared file page ($name)", (era) => {
  it("is safe once written back, and while the page stays dirty with its buffers", () => {
    claim({ title: "write, writeback", model: scenario(era, ["device-write", "writeback"]), predicate: lost, expect: "Never" });
    claim({ title: "write (page dirty since the fault)", model: scenario(era, ["device-write"]), predicate: lost, expect: "Never" });
    claim({ title: "writeback, write, dirty", model: scenario(era, ["writeback", "device-write", "dirty"]), predicate: lost, expect: "Never" });
  });
  it("is lost in a page writeback had cleaned and nothing dirtied again", () => {
    claim({ title: "writeback, write", model: scenario(era, ["writeback", "device-write"]), predicate: lost, expect: "Always" });
  });
  it("is lost in a dirty page without buffers, which no writeback can write", () => {
    claim({ title: "writeback, drop buffers, write, dirty", model: scenario(era, ["writeback", "drop-buffers", "device-write", "dirty"]), predicate: lost, expect: "Always" });
  });
});

describe("ext4's writeback of a dirty page without buffers", () => {
  const steps: Step[] = ["writeback", "drop-buffers", "device-write", "dirty", "writeback"];
  it("v4.16: BUG_ON (a dirty-no-buffers finding); the model goes on and writes the page", () => {
    claim({ title: "E18", model: scenario(E18, steps), predicate: (e) => writepageNoBuffers(e) && !lost(e), expect: "Always" });
  });
  it("now: warns, clears the dirty bit and skips the page: the write is lost", () => {
    claim({ title: "now", model: scenario(ENOW, steps), predicate: (e) => writepageNoBuffers(e) && lost(e), expect: "Always" });
  });
});
