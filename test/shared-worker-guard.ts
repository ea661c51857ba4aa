// Setup file of the "shared" vitest project (vitest.config.ts): its files run one after another in
// the same fork, so state one file leaves behind would reach the next. After every file, check what
// tests are allowed to switch for a moment: the explorer's mutation switches are all off again.
import { afterAll, expect } from "vitest";
import { mutations } from "../lib/explorer/stateful.ts";

afterAll(() => {
  const left = Object.entries(mutations).filter(([, on]) => on).map(([k]) => k);
  expect(left, "explorer mutations left on for the next file in this worker (turn them off in afterEach)").toEqual([]);
});
