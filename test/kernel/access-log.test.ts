// lib/kernel/access-log.ts with lib/explorer/race-log.ts (DPOR_RACE_LOG=1): the field-level race
// log must tell false sharing on the one memory object from a conflict on a field both steps touch.
// The log is decided when race-log.ts loads, so the variable is set before the dynamic imports.
import { afterAll, describe, expect, it } from "vitest";

process.env.DPOR_RACE_LOG = "1";
const { raceLog } = await import("../../lib/explorer/race-log.ts");
const { recordArray, recordList } = await import("../../lib/kernel/access-log.ts");
const { check, model } = await import("../../lib/explorer/index.ts");
const { boot } = await import("../../lib/kernel/kernel.ts");
const { ENOW } = await import("../../lib/kernel/era.ts");
const { mm_alloc, mmap_region } = await import("../../lib/kernel/mm.ts");
const { user_read, user_write } = await import("../../lib/kernel/user.ts");
afterAll(() => void delete process.env.DPOR_RACE_LOG);

describe("field-level race log", () => {
  it("records reads and writes per element, and finds the first field two steps share with a write", () => {
    const rec = raceLog!.recorder!;
    const a = recordArray(new Int32Array(4), (i) => `F${i}.ref`), l = recordList<number>([], "G.writes");
    rec.begin();
    a[1] += 1;
    void a[2];
    const s1 = rec.end();
    rec.begin();
    void a[1];
    l.push(1);
    const s2 = rec.end();
    rec.begin();
    void a[2];
    void l.length;
    const s3 = rec.end();
    expect([...s1]).toEqual([["F1.ref", 2], ["F2.ref", 1]]);
    expect(rec.conflict(s1, s2)).toBe("frame.ref"); // s1 writes frame 1's ref, s2 reads it
    expect(rec.conflict(s1, s3)).toBe(null); // both only read frame 2
    expect(rec.conflict(s2, s3)).toBe("G.writes");
    a[3] = 5; // no step running: nothing recorded, nothing thrown
    expect(a[3]).toBe(5);
  });

  it("classifies the races of two processes on their own pages: the frame allocator is shared, their PTEs are not", () => {
    const m = model("two mms", () => {
      const k = boot(ENOW);
      const p = mm_alloc(k, 2, "p"), q = mm_alloc(k, 2, "q");
      mmap_region(p, 0, 1);
      mmap_region(q, 0, 1);
      const body = (mm: typeof p) => function* () {
        yield* user_write(k, mm, 0);
        yield* user_read(k, mm, 0);
      };
      return { threads: { P: body(p), Q: body(q) }, final: () => 0 };
    });
    // The search prints the log when it ends (inside the determinism guard: no console spy there).
    let out = "";
    const log = raceLog as { print(h: string): void; take(): string };
    log.print = () => void (out = log.take());
    const r = check({ title: "two mms", model: m, predicate: () => true, expect: "Always", search: { strategy: "dpor" } });
    expect(r.complete).toBe(true);
    expect(out).toMatch(/races on memory by the first field both steps touch/);
    expect(out).toMatch(/G\.freelist/); // both faults allocate a frame: a real conflict
    expect(out).toMatch(/no field in common: false sharing/); // e.g. P's read of its page against Q's fault
  });
});
