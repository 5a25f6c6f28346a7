import { open } from "node:fs/promises";
import cron from "node-cron";
import type { AnyProbeKind, SocketEndpoint, Target } from "../core/probe.js";
import { parseSocketTarget } from "../core/target.js";
import { formatIssues, formatPath } from "./format-issues.js";
import type { AgentConfig, CheckConfig, LoadResult, Plan } from "./model.js";
import { z } from "zod";
import { buildCheckSchema, buildCredentialsSchema, buildTopSchema } from "./schema.js";
import { Secret, secretRef } from "../core/secret.js";
import { readYaml, readYamlApart, type YamlRead } from "./yaml-read.js";

/** Largest config file the agent reads (4 MiB): a bigger one is refused before it can exhaust memory. */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;
/** Config files from this size on are parsed in a worker thread (about 3,000 checks; see yaml-read.ts). */
const APART_CHARS = 512 * 1024;
/** Most problem lines reported for one config; a huge broken file must not produce a huge error list. */
const MAX_PROBLEMS = 200;

const DEFAULT_INTERVAL_MS = 60_000;
const DEFAULT_TIMEOUT_MS = 10_000;

/** Reads and validates a config file; never throws. */
export async function loadConfigFile(path: string, kinds: readonly AnyProbeKind[]): Promise<LoadResult> {
  let text: string;
  try {
    const read = await readCapped(path, MAX_CONFIG_BYTES);
    if (read === undefined) {
      return {
        ok: false,
        errors: [`${path}: config file is larger than ${MAX_CONFIG_BYTES / 1024 / 1024} MiB; refused`],
      };
    }
    text = read;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "error";
    return { ok: false, errors: [`${path}: cannot read config file (${code})`] };
  }
  try {
    const refusal = sizeRefusal(text, path);
    if (refusal !== undefined) return refusal;
    // The worker is for memory, not for meaning: if it cannot run, the same parse happens here.
    const read =
      text.length >= APART_CHARS
        ? await readYamlApart(text, path).catch(() => readYaml(text, path))
        : readYaml(text, path);
    return fromRead(read, kinds, path);
  } catch (error) {
    // A bug in a rule must not escape a reload as a rejection: it is reported as a config problem.
    return { ok: false, errors: [`${path}: config cannot be loaded (${(error as Error).name})`] };
  }
}

/** The file's text, or undefined when it holds more than `cap` bytes. Reads in chunks, so a FIFO or a device that
 * never ends (/dev/zero) costs at most `cap` bytes of memory. */
async function readCapped(path: string, cap: number): Promise<string | undefined> {
  const handle = await open(path, "r");
  try {
    const buffer = Buffer.alloc(cap + 1);
    let length = 0;
    while (length <= cap) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return length > cap ? undefined : buffer.toString("utf8", 0, length);
  } finally {
    await handle.close();
  }
}

/** Validates config text: YAML syntax, schema, then the rules across fields. All problems at once; never throws. */
export function parseConfigText(text: string, kinds: readonly AnyProbeKind[], source = "config"): LoadResult {
  return sizeRefusal(text, source) ?? fromRead(readYaml(text, source), kinds, source);
}

function sizeRefusal(text: string, source: string): LoadResult | undefined {
  if (Buffer.byteLength(text) <= MAX_CONFIG_BYTES) return undefined;
  return { ok: false, errors: [`${source}: config is larger than ${MAX_CONFIG_BYTES / 1024 / 1024} MiB; refused`] };
}

function fromRead(read: YamlRead, kinds: readonly AnyProbeKind[], source: string): LoadResult {
  const result = read.ok ? parseData(read.raw, kinds) : read;
  if (result.ok || result.errors.length <= MAX_PROBLEMS) return result;
  const more = result.errors.length - MAX_PROBLEMS;
  return { ok: false, errors: [...result.errors.slice(0, MAX_PROBLEMS), `${source}: ... and ${more} more problem(s)`] };
}

/** Schema, then the rules across fields, on the YAML's data. */
function parseData(raw: unknown, kinds: readonly AnyProbeKind[]): LoadResult {
  const top = buildTopSchema(z.unknown(), buildCredentialsSchema(kinds)).safeParse(raw, { reportInput: true });
  if (!top.success) {
    // The checks may still be worth reading for their own problems, but only if they are a list.
    const checks = (raw as { checks?: unknown }).checks;
    const rest = Array.isArray(checks) ? checkProblems(checks, kinds) : [];
    return { ok: false, errors: [...formatIssues(top.error.issues), ...rest] };
  }
  const { checks, errors } = parseChecks(top.data.checks, kinds);
  return resolveConfig(top.data, checks, errors, kinds);
}

/** Every problem of each check on its own (schema and secret references), when the top level is already refused. */
function checkProblems(checks: readonly unknown[], kinds: readonly AnyProbeKind[]): string[] {
  const { checks: parsed, errors } = parseChecks(checks, kinds);
  for (const { index, check } of parsed) {
    const kind = kinds.find((k) => k.id === check.kind);
    if (kind !== undefined) errors.push(...secretProblems(check[kind.id], ["checks", index, kind.id]));
  }
  return errors;
}

/** Parses each check on its own, so that one bad check does not hide the problems of the next. */
function parseChecks(
  checks: readonly unknown[],
  kinds: readonly AnyProbeKind[],
): { checks: { index: number; raw: unknown; check: RawCheck }[]; errors: string[] } {
  const schema = buildCheckSchema(kinds);
  const parsed: { index: number; raw: unknown; check: RawCheck }[] = [];
  const errors: string[] = [];
  checks.forEach((raw, index) => {
    const result = schema.safeParse(raw, { reportInput: true });
    if (result.success) parsed.push({ index, raw, check: result.data });
    else {
      errors.push(...formatIssues(result.error.issues.map((i) => ({ ...i, path: ["checks", index, ...i.path] }))));
      // A schema error must not hide an unreadable secret: check the references the check names all the same.
      errors.push(...rawSecretProblems(raw, ["checks", index]));
    }
  });
  return { checks: parsed, errors };
}

type TopData = z.output<ReturnType<typeof buildTopSchema<z.ZodUnknown, z.ZodUnknown>>>;

type RawCheck = Record<string, unknown> & {
  name: string;
  kind: string;
  target?: string | undefined;
  interval?: number | undefined;
  schedule?: string | undefined;
  timeout?: number | undefined;
  labels: Record<string, string>;
};

function resolveConfig(
  data: {
    agent: TopData["agent"];
    defaults: TopData["defaults"];
    checks: unknown[];
    credentials: Record<string, unknown>;
  },
  parsedChecks: readonly { index: number; raw: unknown; check: RawCheck }[],
  schemaErrors: readonly string[],
  kinds: readonly AnyProbeKind[],
): LoadResult {
  const errors: string[] = [];
  const seen = new Map<string, number>();
  const checks: CheckConfig[] = [];
  const defaults = data.defaults;
  if (defaults.interval !== undefined && defaults.schedule !== undefined) {
    errors.push("defaults: set interval or schedule, not both");
  }
  const problemsByCheck = new Map<number, string[]>();
  for (const line of schemaErrors) {
    const index = Number(/^checks\[(\d+)\]/.exec(line)?.[1] ?? -1);
    problemsByCheck.set(index, [...(problemsByCheck.get(index) ?? []), line]);
  }
  const parsedByIndex = new Map(parsedChecks.map((p) => [p.index, p]));
  data.checks.forEach((_, index) => {
    errors.push(...(problemsByCheck.get(index) ?? []));
    const parsed = parsedByIndex.get(index);
    if (parsed === undefined) return;
    const { check, raw } = parsed;
    const at = `checks[${index}]`;
    const before = seen.get(check.name);
    if (before !== undefined) errors.push(`${at}.name: "${check.name}" is already the name of checks[${before}]`);
    else seen.set(check.name, index);

    const kind = kinds.find((k) => k.id === check.kind);
    if (kind === undefined) return; // the schema already refused it
    const settings = check[kind.id] ?? (kind.isSettingsOptional ? kind.settingsSchema.parse({}) : undefined);

    if (check.interval !== undefined && check.schedule !== undefined) {
      errors.push(`${at}: set interval or schedule, not both`);
    }
    let plan: Plan =
      check.schedule !== undefined
        ? { type: "cron", expression: check.schedule }
        : check.interval !== undefined
          ? { type: "interval", everyMs: check.interval }
          : defaults.schedule !== undefined
            ? { type: "cron", expression: defaults.schedule }
            : { type: "interval", everyMs: defaults.interval ?? DEFAULT_INTERVAL_MS };
    const floor = kind.minIntervalMs?.(settings);
    if (floor !== undefined && shortestPeriodMs(plan) < floor.ms) {
      if (check.schedule !== undefined || check.interval !== undefined) {
        errors.push(
          `${at}.${check.schedule === undefined ? "interval" : "schedule"}: runs every ${shortestPeriodMs(plan) / 1000}s, ` +
            `too often for ${kind.id}: at least ${floor.ms / 1000}s (${floor.why})`,
        );
      } else plan = { type: "interval", everyMs: floor.ms };
    }
    const timeoutMs = check.timeout ?? defaults.timeout ?? DEFAULT_TIMEOUT_MS;
    const periodMs = shortestPeriodMs(plan);
    if (timeoutMs >= periodMs) {
      errors.push(`${at}.timeout: ${timeoutMs / 1000}s must be shorter than the interval (${periodMs / 1000}s)`);
    }

    const least = kind.minTimeoutMs?.(settings);
    if (least !== undefined && timeoutMs < least.ms) {
      errors.push(
        `${at}.timeout: ${timeoutMs / 1000}s is too short for ${kind.id}: at least ${least.ms / 1000}s (${least.why})`,
      );
    }
    errors.push(...credentialProblems(kind, settings, data.credentials, `${at}.${kind.id}`));
    const family = kind.credentials;
    const credential = credentialNameOf(kind, settings);
    const named = credential === undefined ? undefined : data.credentials[credential];
    const info = named === undefined || family?.describe === undefined ? undefined : family.describe(named);
    for (const problem of kind.settingsProblems?.(
      settings,
      info === undefined ? {} : { credential: { name: credential ?? "", ...info } },
    ) ?? []) {
      errors.push(`${at}.${kind.id}.${problem}`);
    }
    const target = resolveTarget(kind, check.target, settings, `${at}.target`, errors);
    for (const problem of secretProblems(settings, [`checks`, index, kind.id])) errors.push(problem);
    if (target === undefined) return;
    checks.push({
      name: check.name,
      kind,
      settings,
      target,
      plan,
      timeoutMs,
      labels: check.labels,
      throttleScope: kind.throttleScope?.(settings, target),
      fingerprint: JSON.stringify({ check: raw, defaults }),
    });
  });
  for (const [name, settings] of Object.entries(data.credentials)) {
    errors.push(...secretProblems(settings, ["credentials", name]));
  }
  if (errors.length > 0) return { ok: false, errors };
  const config: AgentConfig = {
    credentials: new Map(
      Object.entries(data.credentials).map(([name, settings]) => [
        name,
        { settings, fingerprint: fingerprintOf(settings) },
      ]),
    ),
    listen: parseListen(data.agent.listen),
    location: data.agent.location,
    labels: data.agent.labels,
    logLevel: data.agent.log_level,
    metrics: {
      runDurationHistogram: data.agent.metrics.run_duration_histogram,
      lastSuccessTimestamp: data.agent.metrics.last_success_timestamp,
    },
    checks,
  };
  return { ok: true, config };
}

/** Settings as JSON with secret references as written (a changed reference changes it; values never appear). */
function fingerprintOf(settings: unknown): string {
  return JSON.stringify(settings, function (this: Record<string, unknown>, key: string, value: unknown) {
    const original = this[key];
    return original instanceof Secret ? original.reference : value;
  });
}

/** Credentials the settings name that do not exist, or are of a type the field does not accept. */
/** The credential a kind's settings name first (the one settings rules are checked against). */
function credentialNameOf(kind: AnyProbeKind, settings: unknown): string | undefined {
  const named = kind.credentialOf?.(settings);
  return typeof named === "string" ? named : named?.[0]?.name;
}

function credentialProblems(
  kind: AnyProbeKind,
  settings: unknown,
  credentials: Record<string, unknown>,
  at: string,
): string[] {
  const named = kind.credentialOf?.(settings);
  const uses = typeof named === "string" ? [{ field: "credential", name: named }] : (named ?? []);
  const problems: string[] = [];
  for (const use of uses) {
    const found = credentials[use.name];
    if (found === undefined) {
      const known = Object.keys(credentials);
      problems.push(
        `${at}.${use.field}: no credential "${use.name}" under credentials` +
          (known.length === 0 ? "" : ` (there are: ${known.join(", ")})`),
      );
      continue;
    }
    const type = (found as { type?: unknown }).type;
    if (use.types !== undefined && !use.types.includes(String(type))) {
      problems.push(
        `${at}.${use.field}: credential "${use.name}" is of type ${String(type)}; ${kind.id} needs ` +
          `${use.types.join(" or ")}${use.why === undefined ? "" : ` (${use.why})`}`,
      );
    }
  }
  return problems;
}

/** Shortest gap between runs: the interval, or for cron the smallest gap among the next runs. */
export function shortestPeriodMs(plan: Plan): number {
  if (plan.type === "interval") return plan.everyMs;
  const task = cron.createTask(plan.expression, () => undefined);
  try {
    const runs = task.getNextRuns(12).map((d) => d.getTime());
    let shortest = Number.POSITIVE_INFINITY;
    for (let i = 1; i < runs.length; i++) shortest = Math.min(shortest, (runs[i] ?? 0) - (runs[i - 1] ?? 0));
    return shortest;
  } finally {
    void task.destroy();
  }
}

/** Parses where a check points, as its kind reads it; problems go to `errors` as `path: message`. */
export function resolveTarget(
  kind: AnyProbeKind,
  text: string | undefined,
  settings: unknown,
  path: string,
  errors: string[],
): Target | undefined {
  const spec = kind.target;
  switch (spec.type) {
    case "none":
      if (text !== undefined) {
        errors.push(`${path}: not used by kind ${kind.id} (its own block names the endpoints)`);
        return undefined;
      }
      return { type: "none", label: spec.label(settings) };
    case "endpoints": {
      if (text !== undefined) {
        errors.push(`${path}: not used by kind ${kind.id} (its own block names the endpoints)`);
        return undefined;
      }
      const endpoints: Record<string, SocketEndpoint> = {};
      for (const [name, { text: value, defaultPort }] of Object.entries(spec.endpoints(settings))) {
        const parsed = parseSocketTarget(value, defaultPort);
        if ("error" in parsed) errors.push(`${path.replace(/target$/, `${kind.id}.${name}.target`)}: ${parsed.error}`);
        else endpoints[name] = parsed;
      }
      const labelled = endpoints[spec.labelFrom];
      if (labelled === undefined || Object.keys(endpoints).length < Object.keys(spec.endpoints(settings)).length) {
        return undefined;
      }
      return { type: "endpoints", endpoints, label: labelled.label };
    }
    case "socket": {
      if (text === undefined) {
        errors.push(`${path}: is required (host or host:port)`);
        return undefined;
      }
      const parsed = parseSocketTarget(text, spec.defaultPort(settings));
      if ("error" in parsed) {
        errors.push(`${path}: ${parsed.error}`);
        return undefined;
      }
      return { type: "socket", ...parsed };
    }
    case "url": {
      if (text === undefined) {
        errors.push(`${path}: is required (a URL)`);
        return undefined;
      }
      let url: URL;
      try {
        url = new URL(text);
      } catch {
        errors.push(`${path}: "${text}" is not a URL`);
        return undefined;
      }
      if (url.protocol !== "https:" && url.protocol !== "http:") {
        errors.push(`${path}: must be an http or https URL`);
        return undefined;
      }
      // The label is the URL without credentials, query or fragment: those may hold secrets or free text.
      return { type: "url", url, label: `${url.protocol}//${url.host}${url.pathname}` };
    }
  }
}

/** Every secret reference below `value` that cannot be read now, as `path: reason` (never the value). */
function secretProblems(value: unknown, path: (string | number)[]): string[] {
  if (value instanceof Secret) {
    const problem = value.problem();
    return problem === undefined ? [] : [`${formatPath(path)}: ${problem}`];
  }
  if (Array.isArray(value)) return value.flatMap((item, i) => secretProblems(item, [...path, i]));
  if (value !== null && typeof value === "object" && !(value instanceof RegExp)) {
    return Object.entries(value).flatMap(([key, item]) => secretProblems(item, [...path, key]));
  }
  return [];
}

/** Secret references (`${env:X}`, `${file:/p}`) anywhere in unparsed YAML data that cannot be read now. */
function rawSecretProblems(value: unknown, path: (string | number)[]): string[] {
  if (typeof value === "string") {
    const reference = secretRef.safeParse(value);
    return reference.success ? secretProblems(reference.data, path) : [];
  }
  if (Array.isArray(value)) return value.flatMap((item, i) => rawSecretProblems(item, [...path, i]));
  if (value !== null && typeof value === "object") {
    return Object.entries(value).flatMap(([key, item]) => rawSecretProblems(item, [...path, key]));
  }
  return [];
}

function parseListen(text: string): { host: string; port: number } {
  const index = text.lastIndexOf(":");
  const host = text.slice(0, index).replace(/^\[(.*)\]$/, "$1");
  return { host: host === "" ? "0.0.0.0" : host, port: Number(text.slice(index + 1)) };
}
