// lib/kernel/arena.ts: typed arrays carved from one buffer must behave like separate arrays.
import { describe, expect, it } from "vitest";
import { Arena, arenaBytes } from "../../lib/kernel/arena.ts";

describe("Arena", () => {
  it("hands out zeroed, disjoint, 4-byte aligned views of the size asked for", () => {
    const a = new Arena(arenaBytes(2 * 5, 3, 5));
    const x = a.int32(5), b = a.uint8(3), y = a.int32(5).fill(-1), c = a.uint8(5);
    expect([x.length, b.length, y.length, c.length]).toEqual([5, 3, 5, 5]);
    expect(x.byteOffset % 4 + y.byteOffset % 4).toBe(0);
    x.fill(7); b.fill(255); c.fill(1);
    expect([...x]).toEqual([7, 7, 7, 7, 7]);
    expect([...y]).toEqual([-1, -1, -1, -1, -1]);
    expect([...b]).toEqual([255, 255, 255]);
    expect([...c]).toEqual([1, 1, 1, 1, 1]);
  });
  it("refuses to hand out more than it was sized for", () => {
    const a = new Arena(arenaBytes(4));
    a.int32(4);
    expect(() => a.int32(1)).toThrow(/overflowed/);
  });
});
