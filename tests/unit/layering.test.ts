import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { ESLint } from "eslint";
import tseslint from "typescript-eslint";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../..");

// The exact messages of eslint.config.js, so that a rule reporting for the wrong reason fails too.
const CORE = "src/core imports nothing of ours outside src/core: only npm packages and node:*.";
const ENGINE =
  "Only the composition root (src/cli.ts) and the docs generators import probes/; the engine gets kinds passed in.";
const ENGINE_OUTSIDE =
  "src/ imports nothing of ours outside src/ (tests/, lab/ and bench/ depend on src/, not the reverse).";
const PROBES = "probes/ imports only src/core/, probes/ and npm packages.";
const WIRE = "probes/wire/ never imports a kind file (probes/*.ts): kinds import sessions, not the reverse.";
const LAB = "lab/ imports only src/core/ and npm packages.";

// The repo's own config; type-aware rules off because the fixture files exist only virtually.
const eslint = new ESLint({ cwd: root, overrideConfig: tseslint.configs.disableTypeChecked });

/** The layering messages ESLint reports for `code` placed at `filePath` (relative to the repo root). */
async function layeringMessages(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, filePath) });
  return (result?.messages ?? []).filter((m) => m.ruleId === "no-restricted-imports").map((m) => m.message);
}

describe("lint enforces the layering", () => {
  it.each([
    ["src/core/x.ts", `import { Metrics } from "../metrics/metrics.js";`, CORE],
    ["src/core/classify/x.ts", `import type { Plan } from "../../config/model.js";`, CORE],
    ["src/core/x.ts", `export * from "../../probes/index.js";`, CORE],
    ["src/runtime/x.ts", `import { PROBE_KINDS } from "../../probes/index.js";`, ENGINE],
    ["src/agent.ts", `import { smtpKind } from "../probes/smtp.js";`, ENGINE],
    ["src/server/deep/x.ts", `export { PROBE_KINDS } from "../../../probes/index.js";`, ENGINE],
    ["src/runtime/x.ts", `import { fakeKind } from "../../tests/helpers/fake-kind.js";`, ENGINE_OUTSIDE],
    ["src/cli.ts", `import { fakeKind } from "../tests/helpers/fake-kind.js";`, ENGINE_OUTSIDE],
    ["src/agent.ts", `import { runLab } from "../lab/command.js";`, ENGINE_OUTSIDE],
    ["probes/wire/smtp/x.ts", `import { smtpKind } from "../../smtp.js";`, WIRE],
    ["probes/wire/x.ts", `import { PROBE_KINDS } from "../index.js";`, WIRE],
    ["probes/x.ts", `import { Metrics } from "../src/metrics/metrics.js";`, PROBES],
    ["probes/wire/imap/x.ts", `import { createPhaseClock } from "../../../src/runtime/phase-clock.js";`, PROBES],
    ["probes/x.ts", `import { startSmtpServer } from "../tests/helpers/smtp-test-server.js";`, PROBES],
    ["lab/x.ts", `import { runCheck } from "../src/runtime/runner.js";`, LAB],
    ["lab/sim/x.ts", `import { smtpKind } from "../../probes/smtp.js";`, LAB],
  ])("%s: %s is reported", async (filePath, code, message) => {
    const specifier = /"([^"]+)";$/.exec(code)?.[1];
    expect(await layeringMessages(filePath, `${code}\n`)).toEqual([
      `'${specifier}' import is restricted from being used by a pattern. ${message}`,
    ]);
  });

  it.each([
    ["src/core/classify/x.ts", `import type { Classification } from "../taxonomy.js";`],
    ["src/core/x.ts", `import { a } from "./probe.js";`],
    ["src/core/x.ts", `import { z } from "zod";`],
    ["src/core/x.ts", `import { connect } from "node:net";`],
    ["src/runtime/x.ts", `import type { ProbeKind } from "../core/probe.js";`],
    ["src/runtime/x.ts", `import type { Plan } from "../config/model.js";`],
    ["src/cli.ts", `import { PROBE_KINDS } from "../probes/index.js";`],
    ["src/cli.ts", `import { runLabCommand } from "../lab/cli.js";`],
    ["src/docs/x.ts", `import { PROBE_KINDS } from "../../probes/index.js";`],
    ["src/config/write-json-schema.ts", `import { PROBE_KINDS } from "../../probes/index.js";`],
    ["probes/x.ts", `import { defineKind } from "../src/core/probe.js";`],
    ["probes/x.ts", `import { runSmtpSession } from "./wire/smtp/session.js";`],
    ["probes/wire/smtp/x.ts", `import { tlsFields } from "../transport/tls.js";`],
    ["probes/wire/smtp/x.ts", `import { ProbeError } from "../../../src/core/probe-error.js";`],
    ["lab/sim/x.ts", `import type { ProbeKind } from "../../src/core/probe.js";`],
    ["lab/sim/x.ts", `import { a } from "../b.js";`],
    ["tests/unit/x.test.ts", `import { smtpKind } from "../../probes/smtp.js";`],
    ["tests/unit/x.test.ts", `import { Metrics } from "../../src/metrics/metrics.js";`],
  ])("%s: %s is allowed", async (filePath, code) => {
    expect(await layeringMessages(filePath, `${code}\n`)).toEqual([]);
  });

  it("covers every source file: none lies deeper than the per-depth blocks reach", async () => {
    const files = ["src", "probes", "lab"]
      .filter((dir) => existsSync(join(root, dir)))
      .flatMap((dir) =>
        readdirSync(join(root, dir), { recursive: true, encoding: "utf8" })
          .filter((f) => f.endsWith(".ts"))
          .map((f) => join(dir, f)),
      );
    expect(files.length).toBeGreaterThan(40);
    const uncovered: string[] = [];
    for (const file of files) {
      const config = (await eslint.calculateConfigForFile(join(root, file))) as { rules: Record<string, unknown> };
      if (config.rules["no-restricted-imports"] === undefined) uncovered.push(file);
    }
    expect(uncovered).toEqual([]);
  });

  it("warns at more than 400 lines of code in src/, not counting blank lines and comments", async () => {
    const lines = (n: number) => Array.from({ length: n }, (_, i) => `export const a${i} = ${i};\n// why\n\n`).join("");
    const lint = async (code: string) =>
      (await eslint.lintText(code, { filePath: join(root, "src/x.ts") }))[0]?.messages.filter(
        (m) => m.ruleId === "max-lines",
      );
    expect(await lint(lines(400))).toEqual([]);
    expect(await lint(lines(401))).toMatchObject([{ severity: 1, message: expect.stringMatching(/\(401\)/) }]);
  });
});
