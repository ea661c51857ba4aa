// fork() invalidates the parent's secondary mappings of a COW range in BOTH eras: v4.16's
// copy_page_range already called mmu_notifier_invalidate_range_start(src_mm, …) for
// is_cow_mapping(); only the event argument is new. i915's 2018 design relies on it (C04.3).
import { describe, it } from "vitest";
import { claim, model } from "../../lib/explorer/index.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import { ERAS } from "../../lib/kernel/era.ts";
import { mm_alloc, mmap_region } from "../../lib/kernel/mm.ts";
import { user_write } from "../../lib/kernel/user.ts";
import { fork } from "../../lib/kernel/fork.ts";
import { MmuNotifier, mmu_notifier_register } from "../../lib/kernel/mmu-notifier.ts";

describe.each(ERAS)("fork and notifiers ($name)", (era) => {
  it("fork calls invalidate_range_start and _end on the parent for a private writable mapping", () => {
    const m = model("fork notifies", () => {
      const k = boot(era);
      const p = mm_alloc(k, 8, "parent"), c = mm_alloc(k, 8, "child");
      mmap_region(p, 0, 2);
      const calls: string[] = [];
      const sub = new MmuNotifier({
        name: "probe",
        *invalidate_range_start(_s, r) { calls.push(`start ${r.mm.name} ${r.start}-${r.end}`); },
        *invalidate_range_end(_s, r) { calls.push(`end ${r.mm.name}`); },
      });
      return {
        threads: {
          P: function* () {
            yield* user_write(k, p, 0);
            yield* mmu_notifier_register(k, sub, p);
            yield* fork(k, p, c);
          },
        },
        final: () => calls,
      };
    });
    claim({ title: "fork notifies the parent", model: m, predicate: (e) => e.final.join("; ") === "start parent 0-2; end parent", expect: "Always" });
  });
});
