import { execFileSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, renameSync, writeFileSync, writeSync, constants } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { Agent } from "../../src/agent.js";
import { loadConfigFile, MAX_CONFIG_BYTES } from "../../src/config/load.js";
import { Metrics } from "../../src/metrics/metrics.js";
import { fakeKinds } from "../helpers/fake-kind.js";

const silent = pino({ level: "silent" });

function configWith(...names: string[]): string {
  return `checks:\n${names.map((n) => `  - { name: ${n}, kind: fake, target: 127.0.0.1, interval: 1h }\n`).join("")}`;
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "suiteprobe-reload-"));
}

async function startedAgent(path: string, names: string[]) {
  writeFileSync(path, configWith(...names));
  const registry = new Registry();
  const metrics = new Metrics(registry, { version: "t", nodeVersion: process.version }, []);
  const agent = new Agent({ kinds: fakeKinds, configPath: path, logger: silent, metrics });
  const first = await loadConfigFile(path, fakeKinds);
  if (!first.ok) throw new Error(first.errors.join("\n"));
  await agent.start(first.config);
  const reloadGauge = async () =>
    (await registry.getSingleMetric("suiteprobe_config_last_reload_successful")?.get())?.values[0]?.value;
  return { agent, reloadGauge };
}

const names = (agent: Agent) => agent.config?.checks.map((c) => c.name);

describe("config size and alias limits", () => {
  it("refuses a config file over the size cap with one clear line", async () => {
    const path = join(tempDir(), "big.yaml");
    writeFileSync(path, `# ${"x".repeat(MAX_CONFIG_BYTES)}\nchecks: []\n`);
    const result = await loadConfigFile(path, fakeKinds);
    expect(result).toEqual({ ok: false, errors: [`${path}: config file is larger than 4 MiB; refused`] });
  });

  it("reads a device that never ends only up to the cap", async () => {
    const result = await loadConfigFile("/dev/zero", fakeKinds);
    expect(result).toEqual({ ok: false, errors: ["/dev/zero: config file is larger than 4 MiB; refused"] });
  });

  it("a reload that meets an alias bomb keeps the last good config and sets the reload gauge to 0", async () => {
    const path = join(tempDir(), "config.yaml");
    const { agent, reloadGauge } = await startedAgent(path, ["a"]);
    expect(await reloadGauge()).toBe(1);
    writeFileSync(path, `checks: &c [*d]\nx: &d [*c]\n`);
    const unresolved = await agent.reload();
    expect(unresolved.ok).toBe(false);
    writeFileSync(
      path,
      `a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n` +
        `c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n` +
        `checks: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n`,
    );
    const result = await agent.reload();
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.errors).toEqual([
      `${path}: YAML alias cannot be resolved: Excessive alias count indicates a resource exhaustion attack`,
    ]);
    expect(names(agent)).toEqual(["a"]);
    expect(await reloadGauge()).toBe(0);
    await agent.stop();
  });
});

describe("overlapping reloads", () => {
  it("a reload requested while another reads the file is applied after it: the last request wins", async () => {
    const dir = tempDir();
    const path = join(dir, "config.yaml");
    const { agent } = await startedAgent(path, ["a"]);
    // The file becomes a FIFO, so the first reload blocks in its read until the test writes into it.
    const fifo = join(dir, "config.fifo");
    execFileSync("mkfifo", [fifo]);
    renameSync(fifo, path);
    const first = agent.reload();
    let writer: number | undefined;
    while (writer === undefined) {
      try {
        // Succeeds only once the reader has the FIFO open: the first reload is now reading.
        writer = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
      } catch {
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    renameSync(path, join(dir, "old.fifo"));
    writeFileSync(path, configWith("a", "b", "c"));
    const second = agent.reload();
    writeSync(writer, configWith("a", "b"));
    closeSync(writer);

    const firstResult = await first;
    expect(firstResult.ok && firstResult.config.checks.map((c) => c.name)).toEqual(["a", "b"]);
    const secondResult = await second;
    expect(secondResult.ok && secondResult.config.checks.map((c) => c.name)).toEqual(["a", "b", "c"]);
    expect(names(agent)).toEqual(["a", "b", "c"]);
    await agent.stop();
  });

  it("requests made while a reload is queued share that queued reload", async () => {
    const path = join(tempDir(), "config.yaml");
    const { agent } = await startedAgent(path, ["a"]);
    const running = agent.reload();
    await new Promise((r) => setImmediate(r)); // the first reload has begun to read
    writeFileSync(path, configWith("a", "b"));
    const queued = [agent.reload(), agent.reload()];
    expect(queued[0]).toBe(queued[1]);
    expect(queued[0]).not.toBe(running);
    await running;
    expect((await queued[0])?.ok).toBe(true);
    expect(names(agent)).toEqual(["a", "b"]);
    await agent.stop();
  });
});

describe("failing since", () => {
  it("the agent remembers when a check started failing and forgets it on success; a failed reload is kept", async () => {
    const path = join(tempDir(), "config.yaml");
    writeFileSync(
      path,
      "checks:\n  - { name: f, kind: fake, target: 127.0.0.1, interval: 1s, timeout: 500ms, fake: { mode: fail } }\n",
    );
    const registry = new Registry();
    const metrics = new Metrics(registry, { version: "t", nodeVersion: process.version }, []);
    const agent = new Agent({ kinds: fakeKinds, configPath: path, logger: silent, metrics });
    const loaded = await loadConfigFile(path, fakeKinds);
    if (!loaded.ok) throw new Error(loaded.errors.join("\n"));
    await agent.start(loaded.config);
    const waitFor = async (ok: () => boolean) => {
      for (let i = 0; i < 60 && !ok(); i++) await new Promise((r) => setTimeout(r, 100));
    };
    await waitFor(() => agent.statuses()[0]?.last !== undefined);
    const first = agent.statuses()[0];
    expect(first?.failingSince).toEqual(first?.last?.endedAt);
    await waitFor(() => agent.statuses()[0]?.last?.endedAt !== first?.last?.endedAt);
    expect(agent.statuses()[0]?.failingSince).toEqual(first?.last?.endedAt);

    writeFileSync(path, "checks: [");
    await agent.reload();
    expect(agent.lastReloadFailure?.problems).toBe(1);
    writeFileSync(path, "checks:\n  - { name: f, kind: fake, target: 127.0.0.1, interval: 1s, timeout: 500ms }\n");
    await agent.reload();
    expect(agent.lastReloadFailure).toBeUndefined();
    await waitFor(() => agent.statuses()[0]?.last?.status === "success");
    expect(agent.statuses()[0]?.failingSince).toBeUndefined();
    await agent.stop();
  });
});
