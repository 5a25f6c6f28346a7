import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { pino } from "pino";
import { PROBE_KINDS } from "../probes/index.js";
import { loadConfigFile } from "../src/config/load.js";
import { runCheck } from "../src/runtime/runner.js";
import { measure, startAgent, writeConfig } from "./lib/agent-run.js";
import { httpGet, sleep, type Child } from "./lib/children.js";
import { CpuMeter, load1, round, rssBytes } from "./lib/proc.js";

/** Debian's package `prometheus-blackbox-exporter`. */
export const BLACKBOX_BIN = "/usr/bin/prometheus-blackbox-exporter";

/** One row of the side-by-side table. */
export interface SideBySideRow {
  tool: string;
  probe: string;
  target_rate_per_s: number;
  rate_per_s: number;
  failed: number;
  cpu_pct: number;
  cpu_ms_per_probe: number;
  rss_mb: number;
  responder_cpu_pct: number;
  load1: number;
}

/** How each tool judges a 451 4.3.2 at RCPT, and how long it takes. */
export interface VerdictRow {
  tool: string;
  config: string;
  success: boolean;
  ms: number;
}

/** Side-by-side settings. */
export interface SideBySideOptions {
  dir: string;
  rate: number;
  seconds: number;
  warmSeconds: number;
  timeoutSeconds: number;
  concurrency: number;
}

/** The SMTP dialogue as a blackbox `tcp` module. `naive`: EHLO expects `^250`, as usually written; `strict`: `^250 `
 * (the last line of a multi-line reply), so later expects do not match leftover EHLO continuation lines. */
function blackboxConfig(timeoutSeconds: number): string {
  const dialogue = (ok: string) =>
    [
      { expect: "^220" },
      { send: "EHLO bench.local" },
      { expect: ok },
      { send: "MAIL FROM:<probe@bench.local>" },
      { expect: ok },
      { send: "RCPT TO:<user@bench.local>" },
      { expect: ok },
      { send: "RSET" },
      { expect: ok },
      { send: "QUIT" },
      { expect: "^221" },
    ]
      .map((step) => `          - ${JSON.stringify(step)}`)
      .join("\n");
  const tcp = (ok: string) =>
    `    prober: tcp\n    timeout: ${timeoutSeconds}s\n    tcp:\n      query_response:\n${dialogue(ok)}`;
  return `modules:\n  smtp_naive:\n${tcp("^250")}\n  smtp_strict:\n${tcp("^250 ")}\n  http_2xx:\n    prober: http\n    timeout: ${timeoutSeconds}s\n`;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

/** Starts blackbox_exporter on a free loopback port; resolves once /-/healthy answers (bounded). */
async function startBlackbox(dir: string, timeoutSeconds: number): Promise<{ proc: ChildProcess; port: number }> {
  const path = join(dir, "blackbox.yml");
  writeFileSync(path, blackboxConfig(timeoutSeconds));
  const port = await freePort();
  const proc = spawn(BLACKBOX_BIN, [`--config.file=${path}`, `--web.listen-address=127.0.0.1:${port}`], {
    stdio: ["ignore", "ignore", "ignore"],
  });
  for (let i = 0; i < 100; i++) {
    try {
      if ((await httpGet(`http://127.0.0.1:${port}/-/healthy`, {}, 1000)).status === 200) return { proc, port };
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  proc.kill("SIGKILL");
  throw new Error("blackbox_exporter did not become healthy within 10 s");
}

/** Sends `rate` requests per second for `seconds`, at most `concurrency` at once (the rest are counted as dropped). */
async function drive(url: string, rate: number, seconds: number, concurrency: number) {
  let issued = 0;
  let inFlight = 0;
  let done = 0;
  let failed = 0;
  let dropped = 0;
  const started = performance.now();
  const endAt = started + seconds * 1000;
  const pending = new Set<Promise<void>>();
  while (performance.now() < endAt) {
    const due = Math.floor(((performance.now() - started) / 1000) * rate);
    while (issued < due) {
      issued++;
      if (inFlight >= concurrency) {
        dropped++;
        continue;
      }
      inFlight++;
      const p = httpGet(url, {}, 30_000)
        .then((r) => {
          if (!/^probe_success 1$/m.test(r.body.toString())) failed++;
        })
        .catch(() => void failed++)
        .finally(() => {
          inFlight--;
          done++;
          pending.delete(p);
        });
      pending.add(p);
    }
    await sleep(5);
  }
  await Promise.allSettled([...pending]);
  return { done, failed, dropped, seconds: (performance.now() - started) / 1000 };
}

/** suiteprobe's verdict on a 451 at RCPT: one run of the real smtp kind. */
async function suiteprobeVerdict(dir: string, port: number, timeoutMs: number): Promise<VerdictRow> {
  const path = writeConfig(dir, "verdict", [{ prefix: "v", count: 1, port, intervalMs: timeoutMs + 1000, timeoutMs }]);
  const loaded = await loadConfigFile(path, PROBE_KINDS);
  if (!loaded.ok) throw new Error(loaded.errors.join("\n"));
  const check = loaded.config.checks[0];
  if (check === undefined) throw new Error("no check");
  const started = performance.now();
  const outcome = await runCheck(check, { logger: pino({ level: "silent" }) });
  return {
    tool: "suiteprobe",
    config: `smtp kind (${outcome.failure?.class ?? "ok"} ${outcome.failure?.code ?? ""} at ${outcome.failure?.phase ?? "-"})`,
    success: outcome.status === "success",
    ms: round(performance.now() - started, 1),
  };
}

/** Both tools at the same probe rate against the same loopback targets, and their verdicts on a 451 at RCPT. */
export async function runSideBySide(
  responder: Child,
  http: Child,
  ports: { ok: number; fail451: number; http: number },
  options: SideBySideOptions,
): Promise<{ rows: SideBySideRow[]; verdicts: VerdictRow[]; skipped?: string }> {
  const verdicts: VerdictRow[] = [await suiteprobeVerdict(options.dir, ports.fail451, options.timeoutSeconds * 1000)];
  const rows: SideBySideRow[] = [];

  // suiteprobe at the target rate: rate × 10 checks on a 10 s interval.
  const intervalMs = 10_000;
  const count = Math.round((options.rate * intervalMs) / 1000);
  const agent = await startAgent(
    writeConfig(options.dir, "side-by-side", [{ prefix: "s", count, port: ports.ok, intervalMs, timeoutMs: 5000 }]),
  );
  try {
    await sleep(options.warmSeconds * 1000);
    const w = await measure(agent, responder, options.seconds, options.seconds * 10_000);
    rows.push({
      tool: "suiteprobe",
      probe: "smtp MAIL+RCPT",
      target_rate_per_s: options.rate,
      rate_per_s: round(w.runs / w.seconds, 1),
      failed: 0,
      cpu_pct: round((w.cpuSeconds / w.seconds) * 100, 1),
      cpu_ms_per_probe: w.runs === 0 ? 0 : round((w.cpuSeconds * 1000) / w.runs, 3),
      rss_mb: round(w.rssEndBytes / 2 ** 20, 1),
      responder_cpu_pct: round((w.responderCpuSeconds / w.seconds) * 100, 1),
      load1: w.load1,
    });
  } finally {
    await agent.host.stop();
  }

  if (!existsSync(BLACKBOX_BIN)) {
    return {
      rows,
      verdicts,
      skipped: `${BLACKBOX_BIN} not installed (apt-get install -y prometheus-blackbox-exporter)`,
    };
  }
  const bb = await startBlackbox(options.dir, options.timeoutSeconds);
  try {
    const base = `http://127.0.0.1:${bb.port}/probe`;
    for (const module of ["smtp_naive", "smtp_strict"]) {
      const reply = await httpGet(`${base}?module=${module}&target=127.0.0.1:${ports.fail451}`, {}, 60_000);
      verdicts.push({
        tool: "blackbox_exporter",
        config:
          module === "smtp_naive" ? 'tcp query_response, EHLO expect "^250"' : 'tcp query_response, expect "^250 "',
        success: /^probe_success 1$/m.test(reply.body.toString()),
        ms: round(reply.ms, 1),
      });
    }
    const targets = [
      {
        probe: "smtp MAIL+RCPT (strict)",
        url: `${base}?module=smtp_strict&target=127.0.0.1:${ports.ok}`,
        child: responder,
      },
      { probe: "http 200", url: `${base}?module=http_2xx&target=http://127.0.0.1:${ports.http}/ok`, child: http },
    ];
    for (const t of targets) {
      const cpu = new CpuMeter(bb.proc.pid ?? 0);
      const responderCpu = new CpuMeter(t.child.pid);
      const result = await drive(t.url, options.rate, options.seconds, options.concurrency);
      const used = cpu.read();
      const responderUsed = responderCpu.read();
      rows.push({
        tool: "blackbox_exporter",
        probe: t.probe,
        target_rate_per_s: options.rate,
        rate_per_s: round(result.done / result.seconds, 1),
        failed: result.failed + result.dropped,
        cpu_pct: round((used.cpuSeconds / used.wallSeconds) * 100, 1),
        cpu_ms_per_probe: result.done === 0 ? 0 : round((used.cpuSeconds * 1000) / result.done, 3),
        rss_mb: round(rssBytes(bb.proc.pid ?? 0) / 2 ** 20, 1),
        responder_cpu_pct: round((responderUsed.cpuSeconds / responderUsed.wallSeconds) * 100, 1),
        load1: load1(),
      });
    }
  } finally {
    bb.proc.kill("SIGTERM");
  }
  return { rows, verdicts };
}
