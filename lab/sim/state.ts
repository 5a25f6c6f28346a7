// The simulator's world (tenant, apps, drive, chats, Slack, service health) and its bounded stores.
// Everything a long lab run accumulates lives in a BoundedMap or a ring, so memory stays flat.
import type { SimEndpoint } from "./faults.js";

/** An app registration: client id, its credentials and the permissions granted to it. */
export interface SimApp {
  clientId: string;
  /** Client secret; omit for certificate-only or public clients. */
  secret?: string;
  /** Unix ms after which the secret is expired (AADSTS7000222). */
  secretExpiresAt?: number;
  /** PEM certificate (or SPKI public key) whose private key signs client assertions. */
  certificate?: string;
  /** Application permissions (roles claim) granted by admin consent, e.g. `Files.Read.All`. */
  roles: string[];
  /** Delegated permissions (scp claim) the probe user consented to, e.g. `ChatMessage.Send`. */
  delegatedScopes: string[];
}

/** A refresh token seeded for a delegated probe user. */
export interface SimRefreshToken {
  token: string;
  clientId: string;
  userId: string;
}

/** A Slack bot token and the channels its bot is a member of. */
export interface SimSlackBot {
  token: string;
  userId: string;
  botId: string;
  channels: string[];
}

/** The world the simulator starts with; every field has a default (see `defaultWorld`). */
export interface SimWorld {
  tenant: string;
  tenantId: string;
  apps: SimApp[];
  refreshTokens: SimRefreshToken[];
  /** Lifetime of issued access tokens, seconds (Entra's default is about an hour). */
  tokenLifetimeSeconds: number;
  users: { id: string; userPrincipalName: string; displayName: string }[];
  driveId: string;
  /** Name of the long-lived seeded document the search checks look for. */
  canaryFileName: string;
  chatId: string;
  slack: {
    teamId: string;
    bots: SimSlackBot[];
    channels: string[];
    /** The 2025 limit for non-Marketplace commercial apps: history/replies 1 request/min, `limit` at most 15. */
    isHistoryRestricted: boolean;
  };
  health: { id: string; service: string; status: string }[];
}

/** A sensible default world: tenant contoso, one app with secret, a probe user, a drive with the canary file. */
export function defaultWorld(): SimWorld {
  return {
    tenant: "contoso.onmicrosoft.com",
    tenantId: "72f988bf-0000-4000-8000-000000000001",
    apps: [
      {
        clientId: "11111111-1111-4111-8111-111111111111",
        secret: "sim-secret-value",
        roles: [
          "Files.Read.All",
          "Sites.Read.All",
          "Files.ReadWrite.All",
          "Chat.Create",
          "Chat.Read.All",
          "Chat.ManageDeletion.All",
          "OnlineMeetings.ReadWrite.All",
          "ServiceHealth.Read.All",
        ],
        delegatedScopes: ["ChatMessage.Send", "Chat.ReadWrite", "Files.Read.All", "offline_access"],
      },
    ],
    refreshTokens: [
      { token: "sim-refresh-0", clientId: "11111111-1111-4111-8111-111111111111", userId: "probe-user-id" },
    ],
    tokenLifetimeSeconds: 3599,
    users: [
      { id: "probe-user-id", userPrincipalName: "probe@contoso.onmicrosoft.com", displayName: "Suiteprobe Probe" },
      { id: "peer-user-id", userPrincipalName: "peer@contoso.onmicrosoft.com", displayName: "Suiteprobe Peer" },
    ],
    driveId: "b!sim-drive-0001",
    canaryFileName: "suiteprobe-canary.docx",
    chatId: "19:suiteprobe-probe@thread.v2",
    slack: {
      teamId: "T0SIM0001",
      bots: [{ token: "xoxb-sim-bot-token", userId: "U0SIMBOT1", botId: "B0SIMBOT1", channels: ["C0SIM0001"] }],
      channels: ["C0SIM0001", "C0SIM0002"],
      isHistoryRestricted: false,
    },
    health: [
      { id: "Exchange", service: "Exchange Online", status: "serviceOperational" },
      { id: "SharePoint", service: "SharePoint Online", status: "serviceOperational" },
      { id: "OneDriveForBusiness", service: "OneDrive for Business", status: "serviceOperational" },
      { id: "microsoftteams", service: "Microsoft Teams", status: "serviceOperational" },
      { id: "OSDPPlatform", service: "Microsoft 365 suite", status: "serviceOperational" },
    ],
  };
}

/** A Map that keeps at most `cap` entries, evicting the oldest insertion first. */
export class BoundedMap<K, V> {
  readonly #map = new Map<K, V>();
  evicted = 0;

  constructor(readonly cap: number) {}

  /** Inserts or replaces; a new key beyond the cap evicts the oldest entry. */
  set(key: K, value: V): void {
    if (!this.#map.has(key) && this.#map.size >= this.cap) {
      const oldest = this.#map.keys().next();
      if (oldest.done !== true) {
        this.#map.delete(oldest.value);
        this.evicted++;
      }
    }
    this.#map.set(key, value);
  }
  get(key: K): V | undefined {
    return this.#map.get(key);
  }
  has(key: K): boolean {
    return this.#map.has(key);
  }
  delete(key: K): boolean {
    return this.#map.delete(key);
  }
  get size(): number {
    return this.#map.size;
  }
  values(): IterableIterator<V> {
    return this.#map.values();
  }
}

/** One logged request. */
export interface SimRequestRecord {
  at: number;
  endpoint: SimEndpoint | "control" | "unknown";
  method: string;
  path: string;
  status: number;
  /** The fault types that fired, if any. */
  faults: string[];
}

/** A ring of the last `cap` requests plus exact counts per endpoint since start (or the last reset). */
export class RequestLog {
  readonly #ring: SimRequestRecord[] = [];
  readonly #counts = new Map<string, number>();

  constructor(readonly cap: number) {}

  /** Records a request. */
  add(record: SimRequestRecord): void {
    this.#ring.push(record);
    if (this.#ring.length > this.cap) this.#ring.shift();
    this.#counts.set(record.endpoint, (this.#counts.get(record.endpoint) ?? 0) + 1);
  }
  /** The retained records, oldest first, optionally of one endpoint. */
  list(endpoint?: string): SimRequestRecord[] {
    return endpoint === undefined ? [...this.#ring] : this.#ring.filter((r) => r.endpoint === endpoint);
  }
  /** Requests seen for an endpoint (not limited by the ring). */
  count(endpoint: string): number {
    return this.#counts.get(endpoint) ?? 0;
  }
  /** All counts. */
  counts(): Record<string, number> {
    return Object.fromEntries(this.#counts);
  }
  /** Forgets everything. */
  reset(): void {
    this.#ring.length = 0;
    this.#counts.clear();
  }
}
