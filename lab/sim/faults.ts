// Fault injection for the simulator: which endpoint misbehaves, how, and how often.
// Shapes of the injected errors follow the services' docs (see the endpoint modules for the URLs).
import { z } from "zod";

/** Every endpoint of the simulator that a fault can target; `setFault` takes one of these. */
export const SIM_ENDPOINTS = [
  "entra.token",
  "graph.search",
  "graph.drive.search",
  "graph.drive.upload",
  "graph.drive.delete",
  "graph.chat.post",
  "graph.chat.list",
  "graph.chat.softDelete",
  "graph.chat.create",
  "graph.chat.delete",
  "graph.meeting.create",
  "graph.meeting.delete",
  "graph.health.overviews",
  "graph.health.issues",
  "slack.postMessage",
  "slack.history",
  "slack.replies",
  "slack.delete",
  "slack.status",
] as const;
/** One endpoint id, e.g. `graph.search`. */
export type SimEndpoint = (typeof SIM_ENDPOINTS)[number];

const when = {
  /** Share of matching requests the fault applies to (0..1, default 1), drawn from the simulator's seeded generator. */
  probability: z.number().min(0).max(1).optional(),
  /** Apply to this many requests at most, then lapse (default: until cleared). */
  times: z.number().int().positive().optional(),
};

/** The fault vocabulary, validated the same way for the typed API and the control endpoint. */
export const faultSchema = z.discriminatedUnion("type", [
  // An error reply in the endpoint family's own shape (Graph error body, Slack ok:false, Entra error).
  // `retryAfter` in seconds adds a Retry-After header; leave it out to test clients that must back off on their own.
  z.object({
    type: z.literal("status"),
    status: z.number().int().min(200).max(599),
    code: z.string().optional(),
    message: z.string().optional(),
    retryAfter: z.number().int().nonnegative().optional(),
    ...when,
  }),
  // Slack's HTTP-200 `{ok:false,error}` reply, e.g. invalid_auth, not_in_channel, account_inactive, fatal_error.
  z.object({ type: z.literal("slack"), error: z.string(), ...when }),
  // An Entra token error by AADSTS code (7000215, 7000222, 700016, 90002, 65001, 53003, 50076, 90033, …).
  // `status` overrides the HTTP status the code is normally sent with.
  z.object({
    type: z.literal("aadsts"),
    code: z.number().int().positive(),
    status: z.number().int().min(400).max(599).optional(),
    ...when,
  }),
  // Hold the response headers back this long (slow first byte); the request is then served normally.
  z.object({ type: z.literal("delay"), ms: z.number().int().nonnegative(), ...when }),
  // Serve the normal body in chunks of `chunkBytes` every `chunkDelayMs`.
  z.object({
    type: z.literal("slowBody"),
    chunkDelayMs: z.number().int().nonnegative(),
    chunkBytes: z.number().int().positive().optional(),
    ...when,
  }),
  // `json`: a complete HTTP reply whose JSON is cut in half; `socket`: full Content-Length declared, half sent, socket destroyed.
  z.object({ type: z.literal("truncate"), mode: z.enum(["json", "socket"]).optional(), ...when }),
  // A 200 body of `bytes` bytes streamed with back-pressure (never held in memory), chunked unless `declareLength`.
  z.object({
    type: z.literal("hugeBody"),
    bytes: z.number().int().positive(),
    declareLength: z.boolean().optional(),
    ...when,
  }),
  // 302 to the same URL, for ever.
  z.object({ type: z.literal("redirectLoop"), ...when }),
  // Destroy the connection without a reply (TCP RST where the platform allows), like an unreachable status page.
  z.object({ type: z.literal("reset"), ...when }),
  // Search endpoints: a valid reply with no hits.
  z.object({ type: z.literal("noHits"), ...when }),
  // Search endpoints: files uploaded less than `seconds` ago are not in the results yet.
  z.object({ type: z.literal("indexLag"), seconds: z.number().nonnegative(), ...when }),
  // Post endpoints: the post succeeds but the message never shows up when listed (it is still stored and deletable).
  z.object({ type: z.literal("neverVisible"), ...when }),
  // Graph endpoints: the bearer token is treated as expired (401 InvalidAuthenticationToken).
  z.object({ type: z.literal("expiredToken"), ...when }),
]);
/** One fault; see docs/simulator.md for what each does per endpoint. */
export type SimFault = z.infer<typeof faultSchema>;
/** The `type` of a fault. */
export type SimFaultType = SimFault["type"];

/** Faults that change how a handler computes its answer rather than how the answer is sent. */
export const CONTENT_FAULTS = ["noHits", "indexLag", "neverVisible", "expiredToken"] as const satisfies SimFaultType[];

interface Armed {
  fault: SimFault;
  remaining: number | undefined;
}

/** Seeded 32-bit generator (mulberry32) so intermittent faults repeat exactly across runs with the same seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The faults switched on per endpoint; each request draws once per fault to decide whether it fires. */
export class FaultTable {
  readonly #faults = new Map<SimEndpoint, Armed[]>();
  readonly #random: () => number;

  constructor(seed: number) {
    this.#random = seededRandom(seed);
  }

  /** Replaces the faults of an endpoint (validated; throws a ZodError on a malformed fault). */
  set(endpoint: SimEndpoint, faults: SimFault | readonly SimFault[]): void {
    const list = (Array.isArray(faults) ? faults : [faults]) as readonly SimFault[];
    this.#faults.set(
      endpoint,
      list.map((fault) => ({ fault: faultSchema.parse(fault), remaining: fault.times })),
    );
  }

  /** Removes the faults of one endpoint, or of all when none is given. */
  clear(endpoint?: SimEndpoint): void {
    if (endpoint === undefined) this.#faults.clear();
    else this.#faults.delete(endpoint);
  }

  /** The faults that fire for this request, in the order they were set (consumes `times` and draws the dice). */
  draw(endpoint: SimEndpoint): SimFault[] {
    const armed = this.#faults.get(endpoint);
    if (armed === undefined) return [];
    const fired: SimFault[] = [];
    for (const entry of armed) {
      if (entry.remaining === 0) continue;
      const probability = entry.fault.probability ?? 1;
      if (probability < 1 && this.#random() >= probability) continue;
      if (entry.remaining !== undefined) entry.remaining--;
      fired.push(entry.fault);
    }
    return fired;
  }

  /** The faults currently set, for `/_sim/state` and `lab_fault_active`. */
  snapshot(): Partial<Record<SimEndpoint, SimFault[]>> {
    const out: Partial<Record<SimEndpoint, SimFault[]>> = {};
    for (const [endpoint, armed] of this.#faults) {
      const live = armed.filter((entry) => entry.remaining !== 0).map((entry) => entry.fault);
      if (live.length > 0) out[endpoint] = live;
    }
    return out;
  }
}
