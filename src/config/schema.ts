import cron from "node-cron";
import { z } from "zod";
import type { AnyProbeKind } from "../core/probe.js";
import { credentialFamilyOf } from "../core/credentials.js";
import { duration } from "../core/duration.js";

/** Label names the agent sets itself; configured labels may not use them. */
export const RESERVED_LABELS = [
  "check",
  "kind",
  "target",
  "location",
  "phase",
  "class",
  "code",
  "result",
  "reason",
  "le",
  "quantile",
  "version",
  "node_version",
  "instance",
  "job",
] as const;

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const labels = z
  .record(
    z
      .string()
      .regex(LABEL_NAME, { message: "label names must match [a-zA-Z_][a-zA-Z0-9_]*" })
      .refine((name) => !name.startsWith("__"), { message: "label names starting with __ are reserved" })
      .refine((name) => !(RESERVED_LABELS as readonly string[]).includes(name), {
        message: `is set by suiteprobe itself (reserved: ${RESERVED_LABELS.join(", ")})`,
      }),
    z.string().max(128),
  )
  .default({})
  .describe("Constant labels added to every series of this scope.");

const cronExpression = z
  .string()
  .superRefine((expression, ctx) => {
    const result = cron.validateDetailed(expression);
    if (!result.valid) {
      const why = result.errors.map((e) => e.message).join("; ") || "invalid";
      ctx.addIssue({ code: "custom", message: `invalid cron expression "${expression}": ${why}` });
    }
  })
  .describe('A cron expression in node-cron syntax (5 fields, or 6 with seconds first), e.g. "*/5 * * * *".');

const interval = duration.describe('How often the check runs: "30s", "5m", "1h".');
const timeout = duration.describe("Hard deadline of one run; must be shorter than the interval.");

const agent = z
  .strictObject({
    listen: z
      .string()
      .regex(/^(?:\[[0-9a-fA-F:.]+\]|[^\s:[\]]*):\d{1,5}$/, { message: 'must be host:port, e.g. "0.0.0.0:10587"' })
      .default("0.0.0.0:10587")
      .describe("Address of /metrics, /healthz, /readyz and the status page. Default port 10587."),
    location: z
      .string()
      .regex(/^[a-zA-Z0-9_.-]{1,64}$/, { message: "must be 1-64 characters of [a-zA-Z0-9_.-]" })
      .default("local")
      .describe("Name of this vantage point; the `location` label of every probe series."),
    labels,
    log_level: z
      .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
      .default("info")
      .describe("pino log level."),
    metrics: z
      .strictObject({
        run_duration_histogram: z
          .boolean()
          .default(false)
          .describe(
            "Export probe_run_duration_seconds, a histogram of run durations: 17 series per check, so off by default.",
          ),
        last_success_timestamp: z
          .boolean()
          .default(false)
          .describe(
            "Export probe_last_success_timestamp_seconds: one more series per check, off by default (while a check succeeds it equals probe_last_run_timestamp_seconds).",
          ),
      })
      .default({ run_duration_histogram: false, last_success_timestamp: false })
      .describe("Optional metric families."),
  })
  .default({
    listen: "0.0.0.0:10587",
    location: "local",
    labels: {},
    log_level: "info",
    metrics: { run_duration_histogram: false, last_success_timestamp: false },
  })
  .describe("The agent itself.");

const defaults = z
  .strictObject({
    interval: interval.optional(),
    schedule: cronExpression.optional(),
    timeout: timeout.optional(),
  })
  .default({})
  .describe("Defaults for every check: interval (default 60s) or schedule, and timeout (default 10s).");

/** Fields every check has, whatever its kind. */
function checkBaseFields() {
  return {
    name: z
      .string()
      .regex(/^[a-z0-9_-]{1,64}$/, { message: "must be 1-64 characters of [a-z0-9_-]" })
      .describe("Unique name; the `check` label."),
    target: z
      .string()
      .min(1)
      .optional()
      .describe("host or host:port (IPv6 in brackets) for socket kinds; a URL for HTTP kinds."),
    interval: interval.optional(),
    schedule: cronExpression.optional(),
    timeout: timeout.optional(),
    labels,
  };
}

/** One check: a union over the registered kinds, discriminated by `kind`. */
export function buildCheckSchema(kinds: readonly AnyProbeKind[]) {
  const checkSchemas = kinds.map((kind) =>
    z.strictObject({
      ...checkBaseFields(),
      kind: z.literal(kind.id).describe("The probe kind; its settings go in the block of the same name."),
      [kind.id]: (kind.isSettingsOptional ? kind.settingsSchema.optional() : kind.settingsSchema).describe(
        `Settings of kind ${kind.id}: ${kind.title}.`,
      ),
    }),
  );
  const [first, ...rest] = checkSchemas;
  return first === undefined ? z.never() : z.discriminatedUnion("kind", [first, ...rest]);
}

const CREDENTIAL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

/** The top-level `credentials:` block, from the credential family the registered kinds declare (none: no block). */
export function buildCredentialsSchema(kinds: readonly AnyProbeKind[]) {
  const family = credentialFamilyOf(kinds);
  if (family === undefined) return z.record(z.string(), z.never()).default({}).describe("No kind signs in.");
  return z
    .record(
      z.string().regex(CREDENTIAL_NAME, {
        message: "must be 1-63 letters, digits, '_', '.' or '-', starting with a letter or digit",
      }),
      family.schema,
    )
    .default({})
    .describe("Named sign-ins, shared by the checks that name them (`credential: <name>`); one token cache each.");
}

/** The top level with `checks` as given; each check is parsed on its own so every check's problems are reported. */
export function buildTopSchema<C extends z.ZodType, K extends z.ZodType>(check: C, credentials: K) {
  return z
    .strictObject({
      agent,
      defaults,
      credentials,
      checks: z.array(check).default([]).describe("The checks to run."),
    })
    .describe("suiteprobe configuration");
}

/** The whole config schema, composed from the registry of kinds (for the JSON Schema). */
export function buildConfigSchema(kinds: readonly AnyProbeKind[]) {
  return buildTopSchema(buildCheckSchema(kinds), buildCredentialsSchema(kinds));
}
