// Faults of the lab's mail services, switchable at run time: an SMTP reply at a stage for a share of transactions,
// added latency, tarpits; IMAP login failing or the service unavailable. Validated with zod like the simulator's.
import { z } from "zod";
import { seededRandom } from "../sim/faults.js";

/** SMTP stages a fault can act at: the banner (connect) and the replies to MAIL, RCPT and the end of DATA. */
export const SMTP_STAGES = ["connect", "mail", "rcpt", "data"] as const;
/** One SMTP stage. */
export type SmtpStage = (typeof SMTP_STAGES)[number];

const probability = z
  .number()
  .min(0)
  .max(1)
  .optional()
  .describe("Share of transactions (connections for connect) the fault applies to, 0..1; default 1.");
const every = z
  .number()
  .int()
  .min(2)
  .max(1_000)
  .optional()
  .describe("Apply to every Nth transaction only (exactly 1 in N, no dice); instead of probability.");

/** Faults of the `smtp` service. */
export const smtpFaultSchema = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("reply"),
    stage: z.enum(SMTP_STAGES),
    code: z.number().int().min(400).max(599),
    enhanced: z
      .string()
      .regex(/^[245]\.\d{1,3}\.\d{1,3}$/, { message: "must be an enhanced status code such as 4.3.2" })
      .optional(),
    message: z.string().max(200).optional(),
    probability,
    every,
  }),
  z.strictObject({
    type: z.literal("delay"),
    stage: z.enum(SMTP_STAGES).default("connect"),
    ms: z.number().int().min(0).max(600_000),
    probability,
    every,
  }),
  z.strictObject({ type: z.literal("tarpit"), probability, every }),
]);
/** One SMTP fault. */
export type SmtpFault = z.output<typeof smtpFaultSchema>;

/** Faults of the `imap` service. */
export const imapFaultSchema = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("login"),
    code: z.enum(["AUTHENTICATIONFAILED", "UNAVAILABLE", "AUTHORIZATIONFAILED"]).default("AUTHENTICATIONFAILED"),
    message: z.string().max(200).optional(),
    probability,
    every,
  }),
  z.strictObject({ type: z.literal("unavailable"), probability, every }),
  z.strictObject({ type: z.literal("delay"), ms: z.number().int().min(0).max(600_000), probability, every }),
  z.strictObject({ type: z.literal("tarpit"), probability, every }),
]);
/** One IMAP fault. */
export type ImapFault = z.output<typeof imapFaultSchema>;

/** The faults set on the mail services; each draw uses one seeded generator so a run repeats exactly. */
export class MailFaults {
  smtp: SmtpFault[] = [];
  imap: ImapFault[] = [];
  readonly #random: () => number;
  readonly #counts = new WeakMap<object, number>();

  constructor(seed: number) {
    this.#random = seededRandom(seed);
  }

  /** Whether a fault with this probability fires now. */
  fires(fault: { probability?: number | undefined; every?: number | undefined }): boolean {
    if (fault.every !== undefined) {
      const n = (this.#counts.get(fault) ?? 0) + 1;
      this.#counts.set(fault, n);
      return n % fault.every === 0;
    }
    const p = fault.probability ?? 1;
    return p >= 1 || (p > 0 && this.#random() < p);
  }

  /** The first SMTP fault of `type` at `stage` that fires, if any. */
  smtpAt<T extends SmtpFault["type"]>(type: T, stage?: SmtpStage): Extract<SmtpFault, { type: T }> | undefined {
    for (const fault of this.smtp) {
      if (fault.type !== type) continue;
      if (stage !== undefined && "stage" in fault && fault.stage !== stage) continue;
      if (this.fires(fault)) return fault as Extract<SmtpFault, { type: T }>;
    }
    return undefined;
  }

  /** The first IMAP fault of `type` that fires, if any. */
  imapOf<T extends ImapFault["type"]>(type: T): Extract<ImapFault, { type: T }> | undefined {
    for (const fault of this.imap) {
      if (fault.type === type && this.fires(fault)) return fault as Extract<ImapFault, { type: T }>;
    }
    return undefined;
  }
}
