// A file and its page cache (struct address_space, kernel-semantics §3, §13, §19): cached
// frames by page index, the data persisted on disk, and whether the filesystem tracks dirtying
// through ->page_mkwrite and buffer heads (ext4: PG_PRIVATE must be set on a dirty page).
// Model of mm/filemap.c (filemap_add_folio, filemap_release_folio), mm/page-writeback.c.
//
// State is hardware-visible memory: read and written only inside k.mem.step.

import type { Kernel } from "./kernel.ts";
import { PG_LRU, PG_PRIVATE, PG_UPTODATE } from "./page.ts";

export class KFile {
  readonly id: number;
  /** pfn cached at each page index, -1 if not cached. Each cached page holds one reference. */
  readonly cache: Int32Array;
  /** contents mask last written back (persisted) at each index. */
  readonly disk: Int32Array;
  constructor(
    readonly k: Kernel,
    readonly name: string,
    readonly npages: number,
    /** The filesystem needs ->page_mkwrite before a shared page becomes writable, and buffers
     *  (PG_PRIVATE) on every dirty page (ext4-like). false: shmem/tmpfs-like. */
    readonly dirtyTracked = true,
  ) {
    this.id = k.files.length;
    k.files.push(this);
    this.cache = new Int32Array(npages).fill(-1);
    this.disk = new Int32Array(npages);
  }
}

/** Create a file for a scenario (setup only). */
export function file_create(k: Kernel, name: string, npages: number, dirtyTracked = true): KFile {
  return new KFile(k, name, npages, dirtyTracked);
}

/**
 * Find or read in the page-cache page at index (filemap_fault's lookup + readahead of one page),
 * inside a memory step. Returns the pfn (with the cache's reference; the caller takes its own)
 * or -1 if memory is exhausted.
 */
export function findOrReadPage(k: Kernel, f: KFile, index: number): number {
  const have = f.cache[index];
  if (have >= 0) return have;
  const mem = k.mem;
  const pfn = mem.allocFrame();
  if (pfn < 0) return -1;
  mem.flags[pfn] = PG_UPTODATE | PG_LRU | (f.dirtyTracked ? PG_PRIVATE : 0);
  mem.mapping[pfn] = f.id;
  mem.index[pfn] = index;
  mem.contents[pfn] = f.disk[index];
  f.cache[index] = pfn;
  return pfn;
}
