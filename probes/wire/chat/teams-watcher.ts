/**
 * The Graph side of `teams_chat`: sign-in, and the round-trip watcher that lists a chat's messages (newest first) and
 * soft-deletes this check's probe messages by exact id.
 */
import type { Credential } from "../../../src/core/credentials.js";
import type { ProbeContext } from "../../../src/core/probe.js";
import { ProbeError } from "../../../src/core/probe-error.js";
import type { ApiCall } from "../http/api.js";
import type { TlsSettings } from "../transport/tls.js";
import { pause, type RoundTripItem, type RoundTripWatcher } from "../roundtrip/driver.js";
import { callIn, configFailure, isLostConnection, probeIdIn } from "./chat.js";

/** A probe message in a chat: probe id, Graph message id, and the user who posted it (softDelete's path needs it). */
export interface TeamsItem extends RoundTripItem {
  readonly messageId: string;
  readonly userId: string;
}

/** Where and as whom a check talks to Graph. */
export interface GraphEndpoint {
  /** Graph base, e.g. https://graph.microsoft.com (no trailing slash, no version). */
  url: string;
  credential: Credential;
  tls?: TlsSettings | undefined;
}

/** The fields of a Graph call every chat request shares. */
export function graphCall(endpoint: GraphEndpoint, path: string, extra: Partial<ApiCall> = {}): ApiCall {
  return {
    url: `${endpoint.url}/v1.0${path}`,
    protocol: "graph",
    credential: endpoint.credential,
    ...(endpoint.tls === undefined ? {} : { tls: endpoint.tls }),
    ...extra,
  };
}

/** Signs in (phase `auth`); refuses an app-only credential, which Graph does not allow to post chat messages. */
export async function signIn(ctx: ProbeContext<unknown, unknown>, credential: Credential, why: string): Promise<void> {
  if (credential.isAppOnly) throw configFailure(`credential "${credential.name}" is app-only; ${why}`, "auth");
  await credential.authorization({ signal: ctx.signal, phases: ctx.phases, logger: ctx.logger });
}

const LIST_TOP = 50;

/** Reads a chat message's probe id (this check's only), id and sender; undefined for anything else or deleted ones. */
function itemOf(message: unknown, check: string): TeamsItem | undefined {
  if (typeof message !== "object" || message === null) return undefined;
  const m = message as { id?: unknown; deletedDateTime?: unknown; body?: { content?: unknown }; from?: unknown };
  if (typeof m.id !== "string" || (m.deletedDateTime !== null && m.deletedDateTime !== undefined)) return undefined;
  const content = m.body?.content;
  const id = typeof content === "string" ? probeIdIn(content, check) : undefined;
  const userId = (m.from as { user?: { id?: unknown } } | null | undefined)?.user?.id;
  if (id === undefined || typeof userId !== "string") return undefined;
  return { id, messageId: m.id, userId };
}

/** The chat side of the round trip; `open` signs in. */
export class TeamsWatcher implements RoundTripWatcher<TeamsItem> {
  readonly #ctx: ProbeContext<unknown, unknown>;
  readonly #endpoint: GraphEndpoint;
  readonly #chatId: string;

  constructor(ctx: ProbeContext<unknown, unknown>, endpoint: GraphEndpoint, chatId: string) {
    this.#ctx = ctx;
    this.#endpoint = endpoint;
    this.#chatId = chatId;
  }

  open(): Promise<void> {
    return signIn(
      this.#ctx,
      this.#endpoint.credential,
      "posting and soft-deleting chat messages needs a delegated sign-in (type entra_refresh_token)",
    );
  }

  /** Lists the newest messages (one page) as phase `list`: leftovers of earlier runs, by exact probe id. */
  existing(): Promise<TeamsItem[]> {
    return this.#ctx.phases.time("list", () => this.#list("list"));
  }

  poll(_expectedId: string, phase: string): Promise<TeamsItem[]> {
    return this.#list(phase);
  }

  wait(ms: number, phase: string): Promise<void> {
    return pause(ms, this.#ctx.signal, phase);
  }

  async remove(items: readonly TeamsItem[], phase: string): Promise<void> {
    for (const item of items) {
      const path = `/users/${item.userId}/chats/${this.#chatId}/messages/${item.messageId}/softDelete`;
      try {
        await callIn(this.#ctx, phase, graphCall(this.#endpoint, path, { method: "POST" }));
      } catch (error) {
        // Gone already (a run whose answer was lost, or a person): nothing left to delete.
        if (!(error instanceof ProbeError && statusOf(error) === 404)) throw error;
      }
    }
  }

  isConnectionLoss(error: unknown): boolean {
    return isLostConnection(error, this.#ctx.signal);
  }

  close(): void {
    // Stateless HTTP: nothing held open.
  }

  async #list(phase: string): Promise<TeamsItem[]> {
    const path = `/chats/${this.#chatId}/messages?$top=${LIST_TOP}`;
    const response = await callIn(this.#ctx, phase, graphCall(this.#endpoint, path));
    const value = (response.json as { value?: unknown } | null)?.value;
    const messages = Array.isArray(value) ? (value as unknown[]) : [];
    return messages.flatMap((m) => itemOf(m, this.#ctx.check) ?? []);
  }
}

function statusOf(error: ProbeError): number | undefined {
  const input = error.facts?.input as { status?: unknown } | undefined;
  return typeof input?.status === "number" ? input.status : undefined;
}
