// The simulator's mutable state in one object, built from a SimWorld; endpoint modules read and write it.
import { defaultWorld, BoundedMap, type SimWorld } from "./state.js";

/** An access token the simulated Entra issued. */
export interface IssuedToken {
  clientId: string;
  isAppOnly: boolean;
  /** Application permissions (app-only) or delegated scopes. */
  permissions: string[];
  userId: string | undefined;
  expiresAt: number;
}

/** A driveItem as stored (content is not kept, only its size). */
export interface StoredFile {
  id: string;
  name: string;
  /** Folder path below the root, "" for the root. */
  folder: string;
  size: number;
  createdAt: number;
  modifiedAt: number;
  mimeType: string;
}

/** A Teams chat message as stored. */
export interface StoredChatMessage {
  id: string;
  chatId: string;
  seq: number;
  content: string;
  contentType: string;
  createdAt: number;
  deletedAt: number | undefined;
  fromUserId: string | undefined;
  isHidden: boolean;
}

/** A chat created through `POST /chats` (the seeded chat is one too). */
export interface StoredChat {
  id: string;
  chatType: string;
  topic: string | null;
  createdAt: number;
  memberIds: string[];
}

/** An online meeting. */
export interface StoredMeeting {
  id: string;
  userId: string;
  subject: string | null;
  createdAt: number;
  startDateTime: string;
  endDateTime: string;
}

/** A Slack message. */
export interface StoredSlackMessage {
  channel: string;
  ts: string;
  text: string;
  userId: string;
  botId: string;
  threadTs: string | undefined;
  isHidden: boolean;
}

/** An incident on Slack's status API, stored in its wire shape. */
export interface SlackIncident {
  id: number;
  date_created: string;
  date_updated: string;
  title: string;
  type: "incident" | "notice" | "outage";
  status: string;
  url: string;
  services: string[];
  notes: { date_created: string; body: string }[];
}

/** A serviceHealthIssue, stored in its wire shape. */
export type ServiceHealthIssue = Record<string, unknown> & { id: string; service: string; isResolved: boolean };

/** Options that size and seed the core. */
export interface CoreOptions {
  world?: Partial<SimWorld>;
  /** Cap on each store (files, messages, chats, meetings, Slack messages, tokens); oldest evicted. Default 10,000. */
  maxItems?: number;
  /** Clock in Unix ms; tests pass a controllable one to skip waiting (index lag, token expiry). */
  now?: () => number;
}

/** All mutable state of one simulator. */
export class SimCore {
  readonly world: SimWorld;
  readonly now: () => number;
  baseUrl = "";
  readonly tokens: BoundedMap<string, IssuedToken>;
  readonly refreshTokens: BoundedMap<string, { clientId: string; userId: string }>;
  readonly files: BoundedMap<string, StoredFile>;
  readonly chatMessages: BoundedMap<string, StoredChatMessage>;
  readonly chats: BoundedMap<string, StoredChat>;
  readonly meetings: BoundedMap<string, StoredMeeting>;
  readonly slackMessages: BoundedMap<string, StoredSlackMessage>;
  readonly issues: BoundedMap<string, ServiceHealthIssue>;
  readonly slackIncidents: BoundedMap<number, SlackIncident>;
  /** Per Slack token: when the restricted history budget allows the next call (Unix ms). */
  readonly slackHistoryNextAllowed = new Map<string, number>();
  /** Ids of seeded items (the canary file, the probe chat), left out of `leftovers`. */
  readonly seededIds = new Set<string>();
  #seq = 0;
  #lastSlackTs = 0;

  constructor(options: CoreOptions = {}) {
    this.world = { ...defaultWorld(), ...options.world };
    this.now = options.now ?? Date.now;
    const cap = options.maxItems ?? 10_000;
    this.tokens = new BoundedMap(cap);
    this.refreshTokens = new BoundedMap(cap);
    this.files = new BoundedMap(cap);
    this.chatMessages = new BoundedMap(cap);
    this.chats = new BoundedMap(cap);
    this.meetings = new BoundedMap(cap);
    this.slackMessages = new BoundedMap(cap);
    this.issues = new BoundedMap(Math.min(cap, 1_000));
    this.slackIncidents = new BoundedMap(Math.min(cap, 1_000));
    this.#seed();
  }

  /** A process-unique increasing number (message order, ids). */
  nextSeq(): number {
    return ++this.#seq;
  }

  /** A Slack `ts` ("seconds.micros"), strictly increasing even within one millisecond. */
  nextSlackTs(): string {
    const micros = Math.max(this.now() * 1000, this.#lastSlackTs + 1);
    this.#lastSlackTs = micros;
    return `${Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, "0")}`;
  }

  #seed(): void {
    const { world } = this;
    for (const rt of world.refreshTokens)
      this.refreshTokens.set(rt.token, { clientId: rt.clientId, userId: rt.userId });
    const longAgo = Date.UTC(2025, 0, 6, 9, 0, 0);
    this.files.set("01SIMCANARY0000000000000000000001", {
      id: "01SIMCANARY0000000000000000000001",
      name: world.canaryFileName,
      folder: "",
      size: 18_432,
      createdAt: longAgo,
      modifiedAt: longAgo,
      mimeType: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    });
    this.seededIds.add("01SIMCANARY0000000000000000000001").add(world.chatId);
    this.chats.set(world.chatId, {
      id: world.chatId,
      chatType: "group",
      topic: "suiteprobe probe chat",
      createdAt: longAgo,
      memberIds: world.users.map((u) => u.id),
    });
  }
}
