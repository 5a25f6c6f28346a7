import { describe, expect, it } from "vitest";
import { connectionCap, openFileLimit } from "../../src/server/limits.js";

describe("file descriptors kept for probes", () => {
  it("the HTTP server gets at most a quarter of the open-file limit", () => {
    expect(connectionCap(64, 1024)).toBe(64);
    expect(connectionCap(1000, 1024)).toBe(256);
    expect(connectionCap(64, 100)).toBe(25);
    expect(connectionCap(64, 2)).toBe(1);
    expect(connectionCap(64, undefined)).toBe(64);
  });

  it("reads the soft limit from /proc/self/limits", () => {
    const text =
      "Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 524288               files\n";
    expect(openFileLimit(text)).toBe(1024);
    expect(
      openFileLimit("Max open files            unlimited            unlimited            files\n"),
    ).toBeUndefined();
    expect(openFileLimit()).toBeGreaterThan(0);
  });
});
