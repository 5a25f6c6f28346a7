import type { Logger } from "pino";
import type { AgentConfig, CheckConfig } from "./config/model.js";
import { escapeControl } from "./core/control-chars.js";
import { factRecord, labelledFactRecord } from "./core/facts.js";
import type { CredentialSet } from "./runtime/credentials.js";
import { failureFields, runCheck, type RunOutcome } from "./runtime/runner.js";

/** How many checks `once` runs at the same time. */
const ONCE_CONCURRENCY = 8;

/** Runs the given checks once each, at most a few at a time, in config order. */
export async function runOnce(
  checks: readonly CheckConfig[],
  logger: Logger,
  credentials?: CredentialSet,
): Promise<RunOutcome[]> {
  const outcomes: RunOutcome[] = new Array<RunOutcome>(checks.length);
  let nextIndex = 0;
  const worker = async () => {
    while (nextIndex < checks.length) {
      const index = nextIndex++;
      const check = checks[index] as CheckConfig;
      outcomes[index] = await runCheck(check, {
        logger: logger.child({ check: check.name }),
        ...(credentials === undefined ? {} : { credentials }),
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(ONCE_CONCURRENCY, checks.length) }, worker));
  return outcomes;
}

function round(seconds: number): number {
  return Math.round(seconds * 1e6) / 1e6;
}

/** One JSON object per outcome for `once --json`: no secrets, only classified facts and a short message. */
export function outcomeJson(outcome: RunOutcome, config: AgentConfig): Record<string, unknown> {
  const facts = { ...factRecord(outcome.facts), ...labelledFactRecord(outcome.labelledFacts ?? new Map()) };
  return {
    check: outcome.check,
    kind: outcome.kind,
    target: outcome.target,
    location: config.location,
    success: outcome.status === "success",
    duration_seconds: round(outcome.durationSeconds),
    phases: Object.fromEntries(Object.entries(outcome.phases).map(([p, s]) => [p, round(s)])),
    started_at: outcome.startedAt.toISOString(),
    facts,
    ...failureFields(outcome.failure),
  };
}

function ms(seconds: number): string {
  return `${(seconds * 1000).toFixed(seconds < 0.01 ? 1 : 0)} ms`;
}

/** A plain-text table of outcomes; below each row its facts (e.g. delivery time) and, for failures, retryable, side
 * and the message. */
export function outcomeTable(outcomes: readonly RunOutcome[]): string {
  const head = ["CHECK", "KIND", "RESULT", "CLASS", "CODE", "PHASE", "DURATION", "PHASES"];
  // Every cell and message may hold peer text: control characters are printed as escapes, never raw.
  const rows = outcomes.map((o) =>
    [
      o.check,
      o.kind,
      o.status,
      o.failure?.class ?? "-",
      o.failure?.code ?? "-",
      o.failure?.phase ?? "-",
      ms(o.durationSeconds),
      Object.entries(o.phases)
        .map(([phase, seconds]) => `${phase}=${ms(seconds).replace(" ", "")}`)
        .join(" "),
    ].map(escapeControl),
  );
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  const out = [line(head)];
  outcomes.forEach((o, i) => {
    out.push(line(rows[i] ?? []));
    const facts = Object.entries(factRecord(o.facts)).map(([name, value]) => `${name}=${Number(value.toFixed(3))}`);
    for (const [name, series] of Object.entries(labelledFactRecord(o.labelledFacts ?? new Map()))) {
      for (const { value, ...labels } of series) {
        const text = Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
        facts.push(escapeControl(`${name}{${text.join(",")}}=${value}`));
      }
    }
    if (facts.length > 0) out.push(`  · ${facts.join(" ")}`);
    if (o.failure !== undefined) {
      out.push(`  ↳ retryable=${o.failure.retryable} side=${o.failure.side}: ${escapeControl(o.failure.message)}`);
    }
  });
  return `${out.join("\n")}\n`;
}
