/**
 * suiteprobe's bench: scale, timing fidelity, side by side with blackbox_exporter, and a soak, all on 127.0.0.1
 * against responders of its own (child processes whose CPU is reported). Writes JSON and Markdown to bench/results/
 * with the machine and its load. Every loop is bounded in count and time. Figures only: nothing here asserts speed.
 *
 *   npm run bench                      # everything, soak 30 minutes (about 45 minutes in all)
 *   npm run bench -- --quick           # smoke run, under a minute: proves the scripts work, not speeds
 *   npm run bench -- --only=scale,fidelity --scales=100,1000 --soak-minutes=10 --out=/tmp/x
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runSideBySide } from "./blackbox.js";
import { INJECTED, runFidelity } from "./fidelity.js";
import { Child } from "./lib/children.js";
import { load1, machine } from "./lib/proc.js";
import { table } from "./report.js";
import { runScale } from "./scale.js";
import { runSoak } from "./soak.js";
import type { SmtpProfile } from "./responders/smtp-responder.js";

const SECTIONS = ["scale", "fidelity", "blackbox", "soak"] as const;
type Section = (typeof SECTIONS)[number];

function arg(name: string): string | undefined {
  const prefix = `--${name}=`;
  return process.argv.find((a) => a.startsWith(prefix))?.slice(prefix.length);
}

const isQuick = process.argv.includes("--quick");
const only = new Set((arg("only")?.split(",") ?? SECTIONS) as Section[]);
const outDir = arg("out") ?? join(import.meta.dirname, "../../bench/results");
const soakMinutes = Number(arg("soak-minutes") ?? (isQuick ? 0.15 : 30));
const scales = (arg("scales") ?? (isQuick ? "50,200" : "100,1000,5000,10000")).split(",").map(Number);
const work = mkdtempSync(join(tmpdir(), "suiteprobe-bench-"));

const profiles: SmtpProfile[] = [
  { name: "ok", mode: "ok" },
  { name: "delay", mode: "ok", bannerDelayMs: INJECTED.banner, rcptDelayMs: INJECTED.rcpt },
  { name: "fail451", mode: "fail451" },
  { name: "soak_ok", mode: "ok" },
  { name: "soak_rotate", mode: "rotate" },
];
const smtp = new Child("responders/smtp-responder.js", [JSON.stringify(profiles)]);
const http = new Child("responders/http-responder.js", []);
const result: Record<string, unknown> = {
  started: new Date().toISOString(),
  mode: isQuick ? "quick" : "full",
  machine: machine(),
  note: "Figures measured on a shared machine: read them with load1 (1-minute load average) beside each row.",
};
const markdown: string[] = [];
try {
  const { ports } = await smtp.next<{ ports: Record<string, number> }>("ready");
  const { port: httpPort } = await http.next<{ port: number }>("ready");
  const port = (name: string) => ports[name] ?? 0;
  markdown.push(
    `# suiteprobe bench (${isQuick ? "quick smoke run: figures are not meaningful" : "full"})\n`,
    `${result.started as string}; machine: ${JSON.stringify(result.machine)}\n`,
  );

  if (only.has("scale")) {
    const rows = await runScale(smtp, port("ok"), {
      counts: scales,
      intervalMs: isQuick ? 2000 : 60_000,
      warmSeconds: isQuick ? 1 : 20,
      measureSeconds: isQuick ? 3 : 60,
      scrapeEveryMs: isQuick ? 1000 : 15_000,
      dir: work,
    });
    result.scale = rows;
    markdown.push("## Scale (SMTP checks, MAIL+RCPT, plain text; /metrics scraped with gzip)\n", table(rows));
  }
  if (only.has("fidelity")) {
    const rows = await runFidelity(
      smtp,
      { ok: port("ok"), delay: port("delay") },
      {
        dir: work,
        fidelityChecks: 10,
        backgroundChecks: isQuick ? 100 : 2000,
        backgroundIntervalMs: isQuick ? 1000 : 10_000,
        warmSeconds: isQuick ? 1.5 : 12,
        measureSeconds: isQuick ? 3 : 45,
        scrapeEveryMs: isQuick ? 1000 : 5000,
      },
    );
    result.fidelity = rows;
    markdown.push(
      `## Fidelity (injected: banner ${INJECTED.banner} ms, RCPT ${INJECTED.rcpt} ms; error = reported − injected)\n`,
      table(rows),
    );
  }
  if (only.has("blackbox")) {
    const side = await runSideBySide(
      smtp,
      http,
      { ok: port("ok"), fail451: port("fail451"), http: httpPort },
      {
        dir: work,
        rate: isQuick ? 20 : 100,
        seconds: isQuick ? 2 : 30,
        warmSeconds: isQuick ? 1 : 12,
        timeoutSeconds: isQuick ? 2 : 5,
        concurrency: 256,
      },
    );
    result.sideBySide = side;
    markdown.push("## Side by side with blackbox_exporter (same rate, same loopback targets)\n", table(side.rows));
    markdown.push("### Verdict on a 451 4.3.2 at RCPT\n", table(side.verdicts));
    if (side.skipped !== undefined) markdown.push(`blackbox_exporter skipped: ${side.skipped}\n`);
  }
  if (only.has("soak") && soakMinutes > 0) {
    const soak = await runSoak(
      smtp,
      { soakOk: port("soak_ok"), soakRotate: port("soak_rotate") },
      {
        dir: work,
        checks: Number(arg("soak-checks") ?? (isQuick ? 100 : 10_000)),
        intervalMs: isQuick ? 1000 : 60_000,
        minutes: soakMinutes,
        sampleEveryMs: isQuick ? 2000 : 60_000,
      },
    );
    result.soak = soak;
    const { samples, ...summary } = soak;
    markdown.push(
      "## Soak (half failing: 451 at RCPT, 550 at RCPT, 421 at the banner, reset, in turn)\n",
      table([{ ...summary, responder: JSON.stringify(summary.responder), agent: JSON.stringify(summary.agent) }]),
      "\n",
      table(samples),
    );
  }
  result.finished = new Date().toISOString();
  result.load1_at_end = load1();
} finally {
  await smtp.stop();
  await http.stop();
}

// Not speeds: whether each section produced what it should. CI runs --quick and fails on any of these.
const problems: string[] = [];
const scaleRows = (result.scale ?? []) as {
  checks: number;
  rate_per_s: number;
  series_per_check: number;
  scrapes: number;
}[];
for (const row of scaleRows) {
  if (!(row.rate_per_s > 0 && row.series_per_check > 0 && row.scrapes > 0))
    problems.push(`scale ${row.checks}: no runs or scrapes`);
}
const fidelityRows = (result.fidelity ?? []) as { condition: string; samples: number }[];
if (only.has("fidelity") && !fidelityRows.some((r) => r.condition === "idle" && r.samples > 0)) {
  problems.push("fidelity: no samples");
}
const side = result.sideBySide as { verdicts: { tool: string; success: boolean }[] } | undefined;
if (side !== undefined && side.verdicts.find((v) => v.tool === "suiteprobe")?.success !== false) {
  problems.push("side by side: suiteprobe did not report the 451 at RCPT as a failure");
}
const soak = result.soak as { counters_exact: boolean; samples: unknown[] } | undefined;
if (soak !== undefined && !(soak.counters_exact && soak.samples.length > 0)) problems.push("soak: counters not exact");
result.problems = problems;

mkdirSync(outDir, { recursive: true });
const stamp = (result.started as string).replace(/[:.]/g, "-");
const base = join(outDir, `${stamp}-${isQuick ? "quick" : "full"}`);
writeFileSync(`${base}.json`, `${JSON.stringify(result, null, 2)}\n`);
writeFileSync(`${base}.md`, markdown.join("\n"));
if (!isQuick) writeFileSync(join(outDir, "latest.md"), markdown.join("\n"));
process.stdout.write(`${markdown.join("\n")}\nwritten: ${base}.json, ${base}.md\n`);
if (problems.length > 0) {
  process.stderr.write(`bench problems:\n${problems.map((p) => `  ${p}`).join("\n")}\n`);
  process.exitCode = 1;
}
