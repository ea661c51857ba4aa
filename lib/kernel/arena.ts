// Typed arrays carved from one ArrayBuffer. A kernel is booted for every execution the explorer
// runs, so its per-frame and per-page arrays are allocated thousands of times a second; one
// backing store per object instead of one per array costs 7-18x less to allocate and far less
// to collect (V8 tracks every ArrayBuffer's backing store separately).

/** Hands out consecutive zeroed views of one buffer of `bytes` bytes (each view 4-byte aligned). */
export class Arena {
  private readonly buf: ArrayBuffer;
  private off = 0;
  constructor(bytes: number) {
    this.buf = new ArrayBuffer(bytes);
  }
  int32(n: number): Int32Array {
    return new Int32Array(this.buf, this.take(n * 4), n);
  }
  uint8(n: number): Uint8Array {
    return new Uint8Array(this.buf, this.take(n), n);
  }
  private take(bytes: number): number {
    const at = this.off;
    this.off = (at + bytes + 3) & ~3;
    if (this.off > this.buf.byteLength) throw new Error(`internal: Arena of ${this.buf.byteLength} bytes overflowed`);
    return at;
  }
}

/** Bytes an Arena needs for `int32s` Int32 elements and Uint8 arrays of the given lengths. */
export function arenaBytes(int32s: number, ...uint8s: number[]): number {
  return int32s * 4 + uint8s.reduce((s, n) => s + ((n + 3) & ~3), 0);
}
