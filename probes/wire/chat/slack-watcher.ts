/**
 * The Slack side of `slack_chat`: Web API calls (HTTP 200 `{ok:false,error}` turned into classified failures) and the
 * round-trip watcher that reads a channel back with `conversations.history` within a read budget.
 */
import type { ProbeContext } from "../../../src/core/probe.js";
import { ProbeError } from "../../../src/core/probe-error.js";
import type { Secret } from "../../../src/core/secret.js";
import { apiRequest, type ApiIo } from "../http/api.js";
import { httpStatusError, type HttpResponse } from "../http/client.js";
import type { TlsSettings } from "../transport/tls.js";
import { pause, type RoundTripItem, type RoundTripState, type RoundTripWatcher } from "../roundtrip/driver.js";
import { callIn, isLostConnection, probeIdIn } from "./chat.js";

/** A probe message in a channel: its probe id and Slack timestamp (its id for chat.delete). */
export interface SlackItem extends RoundTripItem {
  readonly ts: string;
}

/** Round-trip state plus when this check last read the channel (the read budget spans runs). */
export interface SlackChatState extends RoundTripState {
  lastReadAtMs: number;
}

/** Slack errors that mean the token itself is refused: reported in phase `auth`. */
const TOKEN_ERRORS = new Set(["not_authed", "invalid_auth", "account_inactive", "token_revoked", "token_expired"]);

/** Where and as whom a check talks to Slack. */
export interface SlackEndpoint {
  /** Web API base, e.g. https://slack.com/api (no trailing slash). */
  url: string;
  token: Secret;
  channel: string;
  tls?: TlsSettings | undefined;
}

/**
 * Calls a Web API method; resolves with the `ok:true` body. A refusal (`ok:false`, or an HTTP error such as 429
 * `ratelimited` with Retry-After) throws a ProbeError with Slack facts for the classifier, in `phase` — or in `auth`
 * when the token was refused. `timed`: time the call as `phase` on the run's clock (else the caller times it).
 */
export async function slackCall(
  io: ApiIo,
  endpoint: SlackEndpoint,
  call: {
    method: string;
    phase: string;
    timed?: boolean;
    json?: Record<string, unknown>;
    query?: Record<string, string>;
  },
): Promise<Record<string, unknown>> {
  const url = new URL(`${endpoint.url}/${call.method}`);
  for (const [k, v] of Object.entries(call.query ?? {})) url.searchParams.set(k, v);
  const request = {
    url,
    method: call.json === undefined ? "GET" : "POST",
    protocol: "slack" as const,
    headers: { authorization: `Bearer ${endpoint.token.reveal()}` },
    ...(call.json === undefined ? {} : { json: call.json }),
    ...(endpoint.tls === undefined ? {} : { tls: endpoint.tls }),
  };
  let response: HttpResponse;
  try {
    response =
      call.timed === true
        ? await apiRequest(io, { ...request, step: call.phase })
        : await callIn(io, call.phase, request);
  } catch (error) {
    throw tokenRefusal(error);
  }
  const body = response.json;
  if (typeof body === "object" && body !== null && (body as { ok?: unknown }).ok === true) {
    return body as Record<string, unknown>;
  }
  throw tokenRefusal(httpStatusError(response, "slack", call.phase));
}

/** A Slack error that refuses the token itself is relabelled `auth`: the sign-in, not the step, is what broke. */
function tokenRefusal(error: unknown): unknown {
  const code = slackErrorOf(error);
  return code !== undefined && TOKEN_ERRORS.has(code) ? (error as ProbeError).relabel("auth") : error;
}

/** The read side: settings the watcher needs. */
export interface SlackWatcherInput {
  endpoint: SlackEndpoint;
  /** Least time between two conversations.history reads of this check (also across runs). */
  readIntervalMs: number;
  /** `limit` of each read (1–15 under Slack's 2025 limit). */
  readLimit: number;
  maxDeliveryMs: number;
}

/**
 * Reads the channel from just before this run's post (`oldest`, `inclusive`, `limit` ≤ 15), so one read finds the
 * message under Slack's 2025 limit for non-Marketplace apps (1 request/min, 15 items). Leftovers come from the
 * driver's memory (ts known from the post answer), not from extra reads. Deletes with chat.delete by ts.
 */
export class SlackWatcher implements RoundTripWatcher<SlackItem> {
  readonly #ctx: ProbeContext<unknown, SlackChatState>;
  readonly #input: SlackWatcherInput;
  /** Read from here on: just before the post, then the post's own ts. */
  oldest = "0";

  constructor(ctx: ProbeContext<unknown, SlackChatState>, input: SlackWatcherInput) {
    this.#ctx = ctx;
    this.#input = input;
  }

  /** Refuses to start a run whose read-back the budget would not allow before the deadline (nothing posted yet). */
  open(): Promise<void> {
    const waitMs = this.#nextReadAtMs() - Date.now();
    if (waitMs > this.#input.maxDeliveryMs) {
      return Promise.reject(
        new ProbeError(
          `conversations.history read budget: the previous read was under ${this.#input.readIntervalMs / 1000}s ago ` +
            `(read_interval); the next is allowed in ${Math.ceil(waitMs / 1000)}s`,
          { phase: "visible", facts: { protocol: "probe", input: { class: "throttled" } } },
        ),
      );
    }
    return Promise.resolve();
  }

  existing(remembered: readonly SlackItem[]): Promise<SlackItem[]> {
    return Promise.resolve([...remembered]);
  }

  async poll(_expectedId: string, phase: string): Promise<SlackItem[]> {
    if (Date.now() < this.#nextReadAtMs()) return [];
    this.#ctx.state.lastReadAtMs = Date.now();
    const body = await slackCall(this.#ctx, this.#input.endpoint, {
      method: "conversations.history",
      phase,
      query: {
        channel: this.#input.endpoint.channel,
        oldest: this.oldest,
        inclusive: "true",
        limit: String(this.#input.readLimit),
      },
    });
    const messages = Array.isArray(body["messages"]) ? (body["messages"] as unknown[]) : [];
    const found: SlackItem[] = [];
    for (const m of messages) {
      const { text, ts } = (m ?? {}) as { text?: unknown; ts?: unknown };
      if (typeof text !== "string" || typeof ts !== "string") continue;
      const id = probeIdIn(text, this.#ctx.check);
      if (id !== undefined) found.push({ id, ts });
    }
    return found;
  }

  /** Sleeps `ms`, or less when the read budget allows the next read sooner. */
  wait(ms: number, phase: string): Promise<void> {
    const untilRead = this.#nextReadAtMs() - Date.now();
    return pause(untilRead > 0 ? Math.min(ms, untilRead) : ms, this.#ctx.signal, phase);
  }

  async remove(items: readonly SlackItem[], phase: string): Promise<void> {
    for (const item of items) {
      try {
        await slackCall(this.#ctx, this.#input.endpoint, {
          method: "chat.delete",
          phase,
          json: { channel: this.#input.endpoint.channel, ts: item.ts },
        });
      } catch (error) {
        // Already gone (deleted by a run whose answer was lost, or by a person): nothing left to do.
        if (slackErrorOf(error) !== "message_not_found") throw error;
      }
    }
  }

  isConnectionLoss(error: unknown): boolean {
    return isLostConnection(error, this.#ctx.signal);
  }

  close(): void {
    // Stateless HTTP: nothing held open.
  }

  #nextReadAtMs(): number {
    return this.#ctx.state.lastReadAtMs + this.#input.readIntervalMs;
  }
}

function slackErrorOf(error: unknown): string | undefined {
  if (!(error instanceof ProbeError) || error.facts?.protocol !== "slack") return undefined;
  const body = (error.facts.input as { body?: unknown }).body;
  const code = typeof body === "object" && body !== null ? (body as { error?: unknown }).error : undefined;
  return typeof code === "string" ? code : undefined;
}
