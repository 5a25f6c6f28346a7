import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PROBE_KINDS } from "../../probes/index.js";
import { loadConfigFile, parseConfigText } from "../../src/config/load.js";
import { readYaml, readYamlApart } from "../../src/config/yaml-read.js";

const dir = mkdtempSync(join(tmpdir(), "suiteprobe-large-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A config of `count` SMTP checks: 4,000 make about 700 KB, over the size read in a worker thread. */
function largeConfig(count: number, tail = ""): string {
  const lines = ['agent: { listen: "127.0.0.1:0", location: lab }', "checks:"];
  for (let i = 0; i < count; i++) {
    lines.push(
      `  - { name: c-${i}, kind: smtp, target: "127.0.0.1:2525", interval: 60s, timeout: 5s, ` +
        `smtp: { tls: none, mail_from: probe@lab.test, rcpt_to: user@lab.test } }`,
    );
  }
  return `${lines.join("\n")}\n${tail}`;
}

describe("a large config file (YAML read in a worker thread)", () => {
  it("loads to the same checks as the text parsed in the agent's thread", async () => {
    const text = largeConfig(4000);
    expect(text.length).toBeGreaterThan(512 * 1024);
    const path = join(dir, "large.yaml");
    writeFileSync(path, text);
    const loaded = await loadConfigFile(path, PROBE_KINDS);
    const parsed = parseConfigText(text, PROBE_KINDS, path);
    expect(loaded.ok && parsed.ok).toBe(true);
    if (!loaded.ok || !parsed.ok) return;
    expect(loaded.config.checks).toHaveLength(4000);
    expect(loaded.config.checks.map((c) => c.fingerprint)).toEqual(parsed.config.checks.map((c) => c.fingerprint));
  });

  it("reports a YAML error near the end with its line, as the in-thread parse does", async () => {
    const text = largeConfig(4000, "  - { name: broken, kind: smtp\n");
    const path = join(dir, "broken.yaml");
    writeFileSync(path, text);
    const loaded = await loadConfigFile(path, PROBE_KINDS);
    expect(loaded.ok).toBe(false);
    if (loaded.ok) return;
    expect(loaded.errors[0]).toMatch(new RegExp(`^${path}:4004:1: Flow map`));
    expect(loaded).toEqual(parseConfigText(text, PROBE_KINDS, path));
  });

  it("the worker gives what the in-thread reader gives, data and alias errors alike", async () => {
    const data = "a: &x { b: [1, two, { c: null }] }\nd: *x\n";
    expect(await readYamlApart(data, "t")).toEqual(readYaml(data, "t"));
    expect(await readYamlApart("a: *missing\n", "t")).toEqual(readYaml("a: *missing\n", "t"));
  });
});
