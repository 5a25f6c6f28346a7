import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseConfigText } from "../../src/config/load.js";
import type { Secret } from "../../src/core/secret.js";
import { PROBE_KINDS } from "../../probes/index.js";
import { fakeKind } from "../helpers/fake-kind.js";

const kinds = [...PROBE_KINDS, fakeKind];
const dir = join(import.meta.dirname, "../fixtures/bad-configs");

describe("bad configs: each fixture yields exactly its expected lines", () => {
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".yaml"))) {
    it(file, () => {
      const text = readFileSync(join(dir, file), "utf8");
      const expected = [...text.matchAll(/^# expect: (.*)$/gm)].map((m) =>
        (m[1] ?? "").replace("KINDS", kinds.map((k) => k.id).join(", ")),
      );
      expect(expected.length).toBeGreaterThan(0);
      const result = parseConfigText(text, kinds);
      expect(result.ok).toBe(false);
      expect(result.ok ? [] : result.errors).toEqual(expected);
    });
  }
});

describe("valid configs", () => {
  it("applies defaults and parses targets", () => {
    const result = parseConfigText(
      `
agent: { location: fra1, labels: { team: mail } }
defaults: { interval: 30s, timeout: 5s }
checks:
  - { name: a, kind: fake, target: "[::1]:2525", labels: { tier: gold } }
  - { name: b, kind: fake, target: example.test, schedule: "*/5 * * * *", timeout: 20s }
`,
      kinds,
    );
    if (!result.ok) throw new Error(result.errors.join("\n"));
    const [a, b] = result.config.checks;
    expect(result.config.location).toBe("fra1");
    expect(result.config.listen).toEqual({ host: "0.0.0.0", port: 10587 });
    expect(a?.target).toEqual({ type: "socket", host: "::1", port: 2525, label: "[::1]:2525" });
    expect(a?.plan).toEqual({ type: "interval", everyMs: 30_000 });
    expect(a?.timeoutMs).toBe(5_000);
    expect(a?.labels).toEqual({ tier: "gold" });
    expect(b?.target.label).toBe("example.test:1000");
    expect(b?.plan).toEqual({ type: "cron", expression: "*/5 * * * *" });
    expect(b?.timeoutMs).toBe(20_000);
  });

  it("resolves secrets only when read, and never prints them", () => {
    process.env.SUITEPROBE_TEST_PASSWORD = "s3cret-value";
    try {
      const result = parseConfigText(
        `checks: [{ name: a, kind: fake, target: h, fake: { password: "\${env:SUITEPROBE_TEST_PASSWORD}" } }]`,
        kinds,
      );
      if (!result.ok) throw new Error(result.errors.join("\n"));
      const settings = result.config.checks[0]?.settings as { password: Secret };
      expect(settings.password.reveal()).toBe("s3cret-value");
      expect(JSON.stringify(settings)).not.toContain("s3cret-value");
      expect(String(settings.password)).toBe("<secret>");
    } finally {
      delete process.env.SUITEPROBE_TEST_PASSWORD;
    }
  });

  it("an unchanged check keeps its fingerprint; a changed one does not", () => {
    const one = parseConfigText(
      `checks: [{ name: a, kind: fake, target: h }, { name: b, kind: fake, target: h }]`,
      kinds,
    );
    const two = parseConfigText(
      `checks: [{ name: a, kind: fake, target: h }, { name: b, kind: fake, target: g }]`,
      kinds,
    );
    if (!one.ok || !two.ok) throw new Error("invalid");
    expect(two.config.checks[0]?.fingerprint).toBe(one.config.checks[0]?.fingerprint);
    expect(two.config.checks[1]?.fingerprint).not.toBe(one.config.checks[1]?.fingerprint);
  });
});
