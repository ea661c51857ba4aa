// The watchdog names the simulated thread that ran last from the worker's shared heartbeat. The
// writer skips rewriting names that are a prefix of what it wrote last (every execution of a model
// re-creates the same threads one by one), and must still name each thread right.
import { describe, expect, it } from "vitest";
import { HEARTBEAT_BYTES, HeartbeatReader, HeartbeatWriter } from "../../build/src/sandbox/heartbeat.ts";

describe("heartbeat thread names", () => {
  it("names the running thread across executions that re-create the same threads, and after the names change", () => {
    const buf = new SharedArrayBuffer(HEARTBEAT_BYTES);
    const w = new HeartbeatWriter(buf), r = new HeartbeatReader(buf);
    for (let exec = 0; exec < 3; exec++) {
      w.threads(["Proc"]);
      w.step(0);
      expect(r.thread()).toBe("Proc");
      w.threads(["Proc", "Kswapd"]);
      w.step(1);
      expect(r.thread()).toBe("Kswapd");
    }
    // Another model: a different first name must be written even though the list is shorter.
    w.threads(["Spinner"]);
    w.step(0);
    expect(r.thread()).toBe("Spinner");
    w.outsideExecution();
    expect(r.thread()).toBeNull();
  });
});
