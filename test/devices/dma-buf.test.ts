// dma-buf: static and dynamic importers and the locking convention per era (kernel-semantics §25).
import { describe, expect, it } from "vitest";
import { claim, model } from "../../lib/explorer/index.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import { E18, ENOW, type Era } from "../../lib/kernel/era.ts";
import { Lockdep } from "../../lib/kernel/lockdep.ts";
import { dma_device } from "../../lib/kernel/dma-mapping.ts";
import { dma_resv_lock, dma_resv_unlock } from "../../lib/kernel/dma-resv.ts";
import { dma_buf_attach, dma_buf_dynamic_attach, dma_buf_export, dma_buf_map_attachment, dma_buf_unmap_attachment } from "../../lib/kernel/dma-buf.ts";

// S12 itself (the move with a dynamic importer that honours or ignores move_notify, and a static
// importer per era) is decided in chapter 11, C11.9 (SC11c).

describe("dma-buf locking convention per era", () => {
  const conv = (era: Era, holdForMap: boolean, holdForAttach = false) => model(`conv ${era.name} ${holdForMap}`, () => {
    const k = boot(era, { lockdep: new Lockdep(era) });
    const buf = dma_buf_export(k, "b", 1);
    const dev = dma_device(k, "imp", "strict");
    return {
      threads: {
        T: function* () {
          if (holdForAttach) yield* dma_resv_lock(k, buf.resv, null);
          const a = yield* dma_buf_attach(k, buf, dev);
          if (holdForAttach) yield* dma_resv_unlock(k, buf.resv);
          if (holdForMap) yield* dma_resv_lock(k, buf.resv, null);
          const s = yield* dma_buf_map_attachment(k, a);
          yield* dma_buf_unmap_attachment(k, a, s);
          if (holdForMap) yield* dma_resv_unlock(k, buf.resv);
        },
      },
    };
  });
  it("now: map/unmap need the resv; attach must not hold it", () => {
    claim({ title: "held: ok", model: conv(ENOW, true), predicate: (e) => e.has("dmabuf-locking"), expect: "Never" });
    claim({ title: "unlocked map", model: conv(ENOW, false), predicate: (e) => e.has("dmabuf-locking"), expect: "Always" });
    claim({ title: "attach under resv", model: conv(ENOW, true, true), predicate: (e) => e.has("dmabuf-locking"), expect: "Always" });
  });
  it("2018: map is called unlocked; holding the resv around it self-deadlocks in the exporter (lockdep: recursion)", () => {
    claim({ title: "unlocked: fine", model: conv(E18, false), predicate: (e) => e.has("deadlock") || e.has("dmabuf-locking"), expect: "Never" });
    claim({ title: "held: deadlock", model: conv(E18, true), predicate: (e) => e.has("deadlock") && e.has("lockdep"), expect: "Always" });
  });
  it("dynamic importers do not exist in 2018", () => {
    const m = model("dyn 2018", () => {
      const k = boot(E18);
      const buf = dma_buf_export(k, "b", 1);
      return { threads: { T: function* () { yield* dma_buf_dynamic_attach(k, buf, dma_device(k, "d", "none"), { name: "x", *move_notify() {} }); } } };
    });
    expect(() => claim({ title: "x", model: m, predicate: () => true, expect: "Always" })).toThrow(/v5.7/);
  });
});
