// dma-buf: static and dynamic importers and the locking convention per era (kernel-semantics §25).
import { describe, expect, it } from "vitest";
import { check, claim, model } from "../../lib/explorer/index.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import { E18, ENOW, type Era } from "../../lib/kernel/era.ts";
import { __dma_map_sg, dma_device, sg_alloc_table_from_pages } from "../../lib/kernel/dma-mapping.ts";
import { gpuvm_create } from "../../lib/kernel/gpu-vm.ts";
import { dma_fence_init, dma_fence_signal } from "../../lib/kernel/dma-fence.ts";
import { dma_resv_lock, dma_resv_unlock } from "../../lib/kernel/dma-resv.ts";
import { DmaBufAttachment, dma_buf_attach, dma_buf_dynamic_attach, dma_buf_exporter_move, dma_buf_export, dma_buf_map_attachment, dma_buf_unmap_attachment, type DmaBufImporterOps } from "../../lib/kernel/dma-buf.ts";

// S12 itself (the move with a dynamic importer that honours or ignores move_notify, and a static
// importer per era) is decided in chapter 11, C11.9 (SC11c).

describe("dma-buf locking convention per era", () => {
  const conv = (era: Era, holdForMap: boolean, holdForAttach = false) => model(`conv ${era.name} ${holdForMap}`, () => {
    const k = boot(era);
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

// The sg table's oracle state ("live" -> "moved" -> "dead") is written in a dma-buf step
// (move_notify) and in the move fence's signalling step (its callback), and read by a device
// access (a memory step). Steps that share no declared object are independent for DPOR, which
// then keeps one order of the GPU access and the fence signal: the access after the copy freed
// the old frames but before the fence signalled (uaf without dmabuf-stale-map) was lost. A small
// SC11c (chapter 11): the exporter moves, a GPU access writes through the old mapping, once.
describe("dma-buf move: the sg table's state is ordered against device accesses", () => {
  const moveVsAccess = (notify: boolean) => model(`move vs access (${notify ? "move_notify" : "ignored"})`, () => {
    const k = boot(ENOW);
    const buf = dma_buf_export(k, "b", 1);
    const dev = dma_device(k, "imp", "strict");
    const vm = gpuvm_create(k, "vm", dev);
    const ops: DmaBufImporterOps = { name: "imp", *move_notify() {} };
    const a = new DmaBufAttachment(buf, dev, notify ? ops : null);
    buf.attachments.push(a);
    const sgt = sg_alloc_table_from_pages("b.sgt0", [...buf.pages]);
    buf.mapped.push(sgt);
    __dma_map_sg(k, dev, sgt);
    a.sgt = sgt;
    vm.set(0, sgt.dma[0], sgt.gens[0], true, null, sgt, "setup");
    return {
      threads: {
        Exporter: function* () {
          yield* dma_resv_lock(k, buf.resv, null);
          yield* dma_buf_exporter_move(k, buf);
          yield* dma_resv_unlock(k, buf.resv);
        },
        Gpu: function* () {
          yield* k.mem.fieldStep("gpu write va 0", "w", () => vm.access(0, true, "gpu"));
        },
      },
    };
  });
  const outcomes = (notify: boolean, search: { strategy: "dfs" | "dpor"; fields?: boolean }) => {
    const all = new Set<string>();
    const r = check({
      title: "outcomes",
      model: moveVsAccess(notify),
      // An outcome is the set of findings (kind and message): the IOMMU entry left on the freed
      // frame is a uaf in every order; the GPU write adds one, or two with the stale-map oracle.
      predicate: (e) => (all.add([...new Set(e.findings.map((f) => `${f.kind}: ${f.message}`))].sort().join(" | ")), false),
      expect: "Never",
      search,
      budget: { executions: 20_000 },
    });
    expect(r.complete).toBe(true);
    return [...all].sort();
  };
  it("DPOR (declared and field footprints) reaches every outcome DFS reaches", () => {
    for (const notify of [false, true]) {
      const dfs = outcomes(notify, { strategy: "dfs" });
      // The three orders of the access: before the copy, between the free and the signal, after.
      expect(dfs.length).toBe(3);
      expect(dfs.filter((o) => o.includes("device write gpu") && !o.includes("dmabuf-stale-map")).length).toBe(1);
      expect(outcomes(notify, { strategy: "dpor" })).toEqual(dfs);
      expect(outcomes(notify, { strategy: "dpor", fields: true })).toEqual(dfs);
    }
  });
});

describe("dma-buf: the sg table's state is behind the footprint checker", () => {
  it("a fence signal whose callback writes it without declaring memory is an internal error", () => {
    const m = model("undeclared", () => {
      const k = boot(ENOW);
      const sgt = sg_alloc_table_from_pages("s", [k.mem.allocFrame()]);
      const f = dma_fence_init(k, "f");
      f.addCallback(() => sgt.setState(k.mem, "dead"), "mark dead");
      return { threads: { T: function* () { yield* dma_fence_signal(k, f); } } };
    });
    expect(() => check({ title: "x", model: m, predicate: () => false, expect: "Never" })).toThrow(/footprint.*s\.state/);
  });
});

// A 2018 move is reached only by an attachment that did not pin (chapter 11's what-if): the move's
// fence is published the 2018 way, as the exclusive fence (reservation_object_add_excl_fence, as
// v4.16's TTM blit moves do); the model called dma_resv_reserve_fences (v5.19+) and threw.
describe("dma-buf move in 2018 (unpinned)", () => {
  it("publishes the move fence as the exclusive one", () => {
    const m = model("2018 move", () => {
      const k = boot(E18);
      const buf = dma_buf_export(k, "b", 1);
      let excl = false;
      return {
        threads: {
          T: function* () {
            yield* dma_resv_lock(k, buf.resv, null);
            const f = yield* dma_buf_exporter_move(k, buf);
            excl = f !== null && buf.resv.fences.some((e) => e.fence === f && e.usage === "WRITE");
            yield* dma_resv_unlock(k, buf.resv);
          },
        },
        final: () => ({ excl }),
      };
    });
    expect(check({ title: "excl", model: m, predicate: (e) => e.final.excl, expect: "Always" }).observed).toBe("Always");
  });
});
