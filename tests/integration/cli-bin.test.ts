import { execFile } from "node:child_process";
import { accessSync, constants, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../..");
const run = promisify(execFile);

describe("the suiteprobe bin", () => {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { bin: Record<string, string> };
  const bin = join(root, pkg.bin.suiteprobe ?? "");

  it("is a committed, executable file with a node shebang", () => {
    expect(readFileSync(bin, "utf8").startsWith("#!/usr/bin/env node\n")).toBe(true);
    expect(() => accessSync(bin, constants.X_OK)).not.toThrow();
  });

  it("runs as a program, with the project's Node first on PATH as under npx and npm scripts", async () => {
    const env = { ...process.env, PATH: `${join(root, "node_modules/.bin")}:${process.env.PATH ?? ""}` };
    const { stdout } = await run(bin, ["--version"], { env });
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
