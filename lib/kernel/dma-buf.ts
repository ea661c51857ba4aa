// dma-buf sharing: exporters, attachments, static and dynamic importers (kernel-semantics §25,
// driver-designs §5). Model of drivers/dma-buf/dma-buf.c (dma_buf_attach, dma_buf_dynamic_attach,
// dma_buf_map_attachment(_unlocked), dma_buf_unmap_attachment, dma_buf_pin, dma_buf_move_notify,
// the DOC "locking convention") and include/linux/dma-buf.h; the exporter's move follows TTM
// (evict under the resv, a move fence added with usage KERNEL, old backing released when the
// move's fence signals).
//
// Eras (device-era.ts):
//  * 2018 (v4.16): static importers only. dma_buf_map_attachment is called WITHOUT the resv; the
//    exporter's map_dma_buf pins the buffer and takes the resv itself (amdgpu's map_attach
//    reserved the BO): an importer holding the resv there self-deadlocks (and lockdep reports the
//    recursion). A pinned buffer cannot move: exporter moves fail with -EBUSY.
//  * now: dynamic importers with importer_ops.move_notify (v5.7; the thread's proposal called it
//    invalidate_mappings). The importer HOLDS the resv for map/unmap/pin and must NOT hold it for
//    attach/detach; the exporter holds it to move and calls dma_buf_move_notify first. Violations
//    are `dmabuf-locking`. Static attachments still force a pin on map.
// Oracle `dmabuf-stale-map` (gpu-vm.ts): a device access through an sg_table after move_notify
// covered it AND the move's fence signalled. The old frames are freed then, so a leaked IOMMU or
// GPU mapping of them is also a `uaf`.
//
// Simplifications: one exporter-side placement change per move (new frames, contents copied,
// old frames released) done by a "copy engine" thread; no peer-to-peer, no vmap/mmap, no
// begin/end_cpu_access. The exporter's own device mappings are not modelled.

import { Obj, finding, note, spawn } from "../explorer/index.ts";
import type { Touch, Yieldable } from "../explorer/index.ts";
import type { Kernel } from "./kernel.ts";
import { enter, kcall, leave } from "./kernel.ts";
import { currentIndex } from "./task.ts";
import { deviceEra, requireDev } from "./device-era.ts";
import { dma_map_sg, dma_unmap_sg, sg_alloc_table_from_pages, type DmaDevice, type SgTable } from "./dma-mapping.ts";
import { dma_fence_init, dma_fence_signal, type DmaFence } from "./dma-fence.ts";
import { dma_resv_add_fence, dma_resv_fences, dma_resv_init, dma_resv_reserve_fences, reservation_object_add_excl_fence, type DmaResv } from "./dma-resv.ts";
import { ww_mutex_lock, ww_mutex_unlock } from "./ww-mutex.ts";
import { EBUSY } from "./ww-mutex.ts";

type Gen<T> = Generator<Yieldable, T, unknown>;

/** struct dma_buf_attach_ops (importer side). */
export interface DmaBufImporterOps {
  readonly name: string;
  /** Called with the resv held, before the exporter moves the buffer. Must not take the resv. */
  move_notify(k: Kernel, attach: DmaBufAttachment): Gen<void>;
}

export class DmaBufAttachment {
  /** The importer's current mapping, null when unmapped. Protected by the resv (now). */
  sgt: SgTable | null = null;
  pinned = false;
  constructor(
    readonly buf: DmaBuf,
    readonly dev: DmaDevice,
    readonly importer_ops: DmaBufImporterOps | null,
  ) {}
  get dynamic(): boolean {
    return this.importer_ops !== null;
  }
}

export class DmaBuf extends Obj {
  readonly resv: DmaResv;
  // ---- protected by resv ----
  /** The backing frames. */
  pages: number[];
  pinCount = 0;
  readonly attachments: DmaBufAttachment[] = [];
  /** Every sg_table handed out, for the stale-map oracle. */
  readonly mapped: SgTable[] = [];
  private seq = 0;
  constructor(
    readonly k: Kernel,
    name: string,
    pages: number[],
  ) {
    super("dma-buf", name);
    this.resv = dma_resv_init(k, `${name}.resv`);
    this.pages = pages;
  }
  step<T>(label: string, run: () => T, also?: readonly Touch[]): Gen<T> {
    return this.access("dmabuf", "w", { label, run, also });
  }
  nextName(): string {
    return `${this.name}.sgt${++this.seq}`;
  }
}

/** dma_buf_export with n freshly allocated backing frames (setup helper, no scheduling point). */
export function dma_buf_export(k: Kernel, name: string, n = 1): DmaBuf {
  const pages: number[] = [];
  for (let i = 0; i < n; i++) pages.push(k.mem.allocFrame());
  return new DmaBuf(k, name, pages);
}

function lockingRule(buf: DmaBuf, what: string, mustHold: boolean): void {
  if (!deviceEra(buf.k).dmaBufResvConvention) return;
  const held = buf.resv.heldByCurrent();
  if (held !== mustHold) finding("dmabuf-locking", `${what} called ${held ? "with" : "without"} ${buf.resv.name} held; the importer must ${mustHold ? "" : "not "}hold it (dma-buf locking convention)`, { buf: buf.name, what });
}

/** dma_buf_attach: a static importer. Must not hold the resv. */
export function* dma_buf_attach(k: Kernel, buf: DmaBuf, dev: DmaDevice): Gen<DmaBufAttachment> {
  lockingRule(buf, "dma_buf_attach", false);
  const a = new DmaBufAttachment(buf, dev, null);
  yield* buf.step(`dma_buf_attach(${buf.name}, ${dev.name})`, () => void buf.attachments.push(a));
  return a;
}

/** dma_buf_dynamic_attach (v5.7): an importer with move_notify. Must not hold the resv. */
export function* dma_buf_dynamic_attach(k: Kernel, buf: DmaBuf, dev: DmaDevice, ops: DmaBufImporterOps): Gen<DmaBufAttachment> {
  requireDev(k, "dynamicDmaBuf", "dma_buf_dynamic_attach", "v5.7, bb42df4662a4");
  lockingRule(buf, "dma_buf_dynamic_attach", false);
  const a = new DmaBufAttachment(buf, dev, ops);
  yield* buf.step(`dma_buf_dynamic_attach(${buf.name}, ${dev.name}, ${ops.name})`, () => void buf.attachments.push(a));
  return a;
}

/**
 * dma_buf_map_attachment: the exporter's map_dma_buf maps the current backing for the
 * attachment's device. Static attachments pin. Now: the importer holds the resv. 2018: called
 * unlocked, and the exporter reserves the buffer itself around the pin.
 */
export function* dma_buf_map_attachment(k: Kernel, attach: DmaBufAttachment): Gen<SgTable> {
  const __k = enter(k, "dma_buf_map_attachment");
  try {
    const buf = attach.buf;
    lockingRule(buf, "dma_buf_map_attachment", true);
    const exporterLocks = !deviceEra(k).dmaBufResvConvention;
    if (exporterLocks) yield* ww_mutex_lock(k, buf.resv.lock, null, `${buf.name} exporter map_dma_buf: reserve`);
    const sgt = yield* buf.step(`${buf.name} exporter map_dma_buf${attach.dynamic ? "" : " (pin)"}`, () => {
      if (!attach.dynamic) {
        attach.pinned = true;
        buf.pinCount++;
      }
      const s = sg_alloc_table_from_pages(buf.nextName(), [...buf.pages]);
      buf.mapped.push(s);
      attach.sgt = s;
      return s;
    });
    yield* dma_map_sg(k, attach.dev, sgt);
    if (exporterLocks) yield* ww_mutex_unlock(k, buf.resv.lock);
    return sgt;
  } finally {
    leave(__k);
  }
}

/** dma_buf_map_attachment_unlocked (now): takes the resv around the map. */
export function* dma_buf_map_attachment_unlocked(k: Kernel, attach: DmaBufAttachment): Gen<SgTable> {
  yield* ww_mutex_lock(k, attach.buf.resv.lock, null, `dma_resv_lock(${attach.buf.resv.name})`);
  const s = yield* dma_buf_map_attachment(k, attach);
  yield* ww_mutex_unlock(k, attach.buf.resv.lock);
  return s;
}

/** dma_buf_unmap_attachment: unmap for the device; static attachments unpin. */
export function* dma_buf_unmap_attachment(k: Kernel, attach: DmaBufAttachment, sgt: SgTable): Gen<void> {
  const __k = enter(k, "dma_buf_unmap_attachment");
  try {
    const buf = attach.buf;
    lockingRule(buf, "dma_buf_unmap_attachment", true);
    yield* dma_unmap_sg(k, attach.dev, sgt);
    yield* buf.step(`${buf.name} exporter unmap_dma_buf`, () => {
      if (attach.sgt === sgt) attach.sgt = null;
      if (attach.pinned) {
        attach.pinned = false;
        buf.pinCount--;
      }
    });
  } finally {
    leave(__k);
  }
}

/** dma_buf_move_notify (now): resv held; every dynamic importer invalidates its mapping. */
export function* dma_buf_move_notify(k: Kernel, buf: DmaBuf): Gen<void> {
  const __k = enter(k, "dma_buf_move_notify");
  try {
    if (!buf.resv.heldByCurrent()) finding("dmabuf-locking", `dma_buf_move_notify(${buf.name}) without ${buf.resv.name} held (dma_resv_assert_held)`, { buf: buf.name });
    // The sg tables' state is memory's (dma-mapping.ts SgTable): a write of all of memory.
    yield* buf.step(`move_notify: mark mappings of ${buf.name} moved`, () => {
      for (const s of buf.mapped) if (s.state(k.mem) === "live") s.setState(k.mem, "moved");
    }, [{ obj: k.mem, mode: "w" }]);
    for (const a of buf.attachments) if (a.importer_ops) yield* kcall(k, `${a.importer_ops.name}.move_notify`, () => a.importer_ops!.move_notify(k, a));
  } finally {
    leave(__k);
  }
}

/**
 * The exporter moves the buffer (TTM eviction of a shared BO). Caller holds the resv. Returns the
 * move fence, or null with -EBUSY semantics if the buffer is pinned. The copy runs on a "copy
 * engine" thread: it waits for every fence already in the resv, copies, releases the old frames,
 * then signals the move fence; the old sg_tables are dead from then on.
 */
export function* dma_buf_exporter_move(k: Kernel, buf: DmaBuf): Gen<DmaFence | null> {
  const __k = enter(k, `${buf.name} exporter move`);
  try {
    if (!buf.resv.heldByCurrent()) finding("dmabuf-locking", `exporter moves ${buf.name} without holding ${buf.resv.name}`, { buf: buf.name });
    const pinned = yield* buf.step(`${buf.name}: pinned?`, () => buf.pinCount > 0);
    if (pinned) {
      note(`${buf.name} is pinned: move fails (-EBUSY)`);
      return null;
    }
    if (deviceEra(k).dynamicDmaBuf) yield* dma_buf_move_notify(k, buf);
    const waitFor = yield* dma_resv_fences(buf.resv, "BOOKKEEP");
    const old = buf.pages;
    const fence = dma_fence_init(k, `${buf.name}.move`);
    // The fence is new and private to this thread and the copy thread spawned below: adding the
    // callback needs no step. It runs inside the signalling step, under fence->lock.
    // The copy engine's signal declares what it touches (memory, for the sg tables' state, and
    // this buffer's list of them).
    fence.addCallback(() => {
      for (const s of buf.mapped) if (s.state(k.mem) === "moved" && s.pages.some((p) => old.includes(p))) s.setState(k.mem, "dead");
    }, "mark old mappings dead");
    if (deviceEra(k).resvUsages) {
      yield* dma_resv_reserve_fences(k, buf.resv, 1);
      yield* dma_resv_add_fence(k, buf.resv, fence, "KERNEL");
    } else {
      // 2018 (reached only by an unpinned static attachment, a what-if): TTM publishes a blit
      // move's fence as the exclusive one (reservation_object_add_excl_fence in
      // ttm_bo_move_accel_cleanup and ttm_bo_pipeline_move, v4.16; amdgpu_move_blit uses the latter).
      yield* reservation_object_add_excl_fence(k, buf.resv, fence);
    }
    const fresh = yield* k.mem.step(`${buf.name}: allocate new backing`, "w", () => old.map(() => k.mem.allocFrame()));
    yield* buf.step(`${buf.name}: switch backing to ${fresh.join(",")}`, () => void (buf.pages = fresh));
    yield* spawn(`copy:${buf.name}`, () => copy_engine(k, buf, fence, waitFor, old, fresh));
    return fence;
  } finally {
    leave(__k);
  }
}

/** The copy engine of a move: wait for the fences, copy, release the old frames, signal. A
 *  module-level function* so that a move per execution makes no generator function (README.md, "Speed"). */
function* copy_engine(k: Kernel, buf: DmaBuf, fence: DmaFence, waitFor: readonly DmaFence[], old: readonly number[], fresh: readonly number[]): Gen<void> {
  fence.signaller = currentIndex();
  for (const f of waitFor) yield* f.read(`copy engine: wait ${f.name}`, () => undefined, () => f.signalled);
  yield* k.mem.step(`copy ${buf.name}: ${old.join(",")} -> ${fresh.join(",")}, release old backing`, "w", () => {
    old.forEach((p, i) => k.mem.copyFrame(fresh[i], p));
    for (const p of old) k.mem.putPage(p);
  });
  yield* dma_fence_signal(k, fence, 0, [{ obj: k.mem, mode: "w" }, { obj: buf, mode: "r" }]);
}

export { EBUSY };
