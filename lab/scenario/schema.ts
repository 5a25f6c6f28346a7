// Scenario files (scenarios/*.yaml): a timeline of fault changes per lab service, validated with zod with the same
// care as the agent's config — strict objects, every problem at once, one line each with its path.
import { readFile } from "node:fs/promises";
import { parseDocument } from "yaml";
import { z } from "zod";
import { duration } from "../../src/core/duration.js";
import { imapFaultSchema, smtpFaultSchema } from "../mail/faults.js";
import { faultSchema, SERVICE_HEALTH_STATUSES } from "../sim/index.js";
import { isLabService, LAB_SERVICES, type LabService } from "../lab.js";

const MAX_SCENARIO_BYTES = 1024 * 1024;

/** Moments of a scenario the fire drill measures against. */
export const SCENARIO_MARKS = ["onset", "acknowledged", "recovered"] as const;
/** One mark. */
export type ScenarioMark = (typeof SCENARIO_MARKS)[number];

/** The schema a fault of `service` must fit. */
function faultSchemaOf(service: LabService): z.ZodType {
  if (service === "smtp") return smtpFaultSchema;
  if (service === "imap") return imapFaultSchema;
  return faultSchema;
}

const faultsByService = z.record(z.string(), z.array(z.unknown())).superRefine((set, ctx) => {
  for (const [service, faults] of Object.entries(set)) {
    if (!isLabService(service)) {
      ctx.addIssue({ code: "custom", path: [service], message: `unknown service (known: ${LAB_SERVICES.join(", ")})` });
      continue;
    }
    faults.forEach((fault, index) => {
      const parsed = faultSchemaOf(service).safeParse(fault);
      if (!parsed.success) {
        for (const issue of parsed.error.issues) {
          ctx.addIssue({ code: "custom", path: [service, index, ...issue.path], message: issue.message });
        }
      }
    });
  }
});

const simActions = z.strictObject({
  health: z
    .array(z.strictObject({ service: z.string().min(1), status: z.enum(SERVICE_HEALTH_STATUSES) }))
    .optional()
    .describe("Service statuses shown by the simulated Graph healthOverviews."),
  open_issues: z
    .array(
      z.strictObject({
        id: z.string().min(1),
        service: z.string().min(1),
        title: z.string().min(1),
        status: z.enum(SERVICE_HEALTH_STATUSES).optional(),
        classification: z.enum(["advisory", "incident"]).optional(),
      }),
    )
    .optional()
    .describe("Service health issues the provider opens (its acknowledgement)."),
  resolve_issues: z.array(z.string().min(1)).optional().describe("Ids of issues the provider resolves."),
});

const step = z.strictObject({
  at: duration.or(z.literal("0")).describe("Offset from the start of the scenario, in scenario time (e.g. 42m)."),
  note: z.string().min(1).max(200).describe("What happens, as the live view prints it."),
  mark: z.enum(SCENARIO_MARKS).optional().describe("A moment the fire drill measures against."),
  clear: z
    .union([z.literal("all"), z.array(z.string())])
    .optional()
    .describe("Services whose faults are cleared first (all: every service)."),
  set: faultsByService.optional().describe("Faults per service, replacing that service's faults."),
  sim: simActions.optional(),
});

/** The schema of a scenario file. */
export const scenarioSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, { message: "must be lower-case letters, digits and -" }),
  description: z.string().min(1).max(2000),
  clock: z
    .string()
    .regex(/^([01]\d|2[0-3]):[0-5]\d$/, { message: 'must be a time of day like "13:55"' })
    .optional()
    .describe("Wall-clock time of offset 0 in the story, for the live view (e.g. 13:55 US Eastern)."),
  speed: z.number().positive().max(10_000).default(1).describe("Default speed (scenario seconds per real second)."),
  duration: duration.describe("Length of the scenario; the lab keeps the last step's state afterwards."),
  steps: z.array(step).min(1),
  expect_alerts: z
    .array(z.string().regex(/^[A-Za-z][A-Za-z0-9]*$/, { message: "must be an alert name" }))
    .default([])
    .describe("Alerts the fire drill expects to fire; any other alert that fires is a false alert."),
});

/** A parsed scenario (offsets in milliseconds of scenario time). */
export type Scenario = z.output<typeof scenarioSchema>;
/** One parsed step. */
export type ScenarioStep = Scenario["steps"][number];

/** The result of loading a scenario: the scenario, or every problem as `path: message`. */
export type ScenarioLoad = { ok: true; scenario: Scenario } | { ok: false; errors: string[] };

function formatPath(path: readonly PropertyKey[]): string {
  let text = "";
  for (const part of path)
    text += typeof part === "number" ? `[${part}]` : text === "" ? String(part) : `.${String(part)}`;
  return text === "" ? "(root)" : text;
}

/** Parses scenario YAML text; `source` names it in messages. */
export function parseScenario(text: string, source: string): ScenarioLoad {
  const doc = parseDocument(text, { prettyErrors: false });
  if (doc.errors.length > 0) {
    return { ok: false, errors: doc.errors.map((e) => `${source}: YAML: ${e.message.split("\n")[0] ?? ""}`) };
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    return { ok: false, errors: [`${source}: YAML: ${(error as Error).message.split("\n")[0] ?? ""}`] };
  }
  const parsed = scenarioSchema.safeParse(data);
  if (!parsed.success) {
    return {
      ok: false,
      errors: parsed.error.issues.flatMap((issue) =>
        issue.code === "unrecognized_keys"
          ? issue.keys.map((k) => `${formatPath([...issue.path, k])}: unknown field`)
          : [`${formatPath(issue.path)}: ${issue.message}`],
      ),
    };
  }
  const scenario = parsed.data;
  const errors: string[] = [];
  scenario.steps.forEach((s, i) => {
    const at = typeof s.at === "number" ? s.at : 0;
    const before = scenario.steps[i - 1];
    if (before !== undefined && at < (typeof before.at === "number" ? before.at : 0)) {
      errors.push(`steps[${i}].at: must not be earlier than the step before`);
    }
    if (at > scenario.duration) errors.push(`steps[${i}].at: after the end of the scenario (duration)`);
  });
  for (const mark of SCENARIO_MARKS) {
    if (scenario.steps.filter((s) => s.mark === mark).length > 1)
      errors.push(`steps: more than one step marked ${mark}`);
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, scenario };
}

/** Reads and parses a scenario file. */
export async function loadScenarioFile(path: string): Promise<ScenarioLoad> {
  let text: string;
  try {
    const buffer = await readFile(path);
    if (buffer.length > MAX_SCENARIO_BYTES) return { ok: false, errors: [`${path}: larger than 1 MiB`] };
    text = buffer.toString("utf8");
  } catch (error) {
    return { ok: false, errors: [`${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? "error"})`] };
  }
  return parseScenario(text, path);
}

/** A step's offset in milliseconds of scenario time. */
export function offsetOf(s: ScenarioStep): number {
  return typeof s.at === "number" ? s.at : 0;
}
