import { lookup } from "node:dns/promises";
import type { Socket } from "node:net";
import type { ConnectionOptions, TLSSocket } from "node:tls";
import { ProbeError } from "../../../src/core/probe-error.js";
import type { ClassifyInput } from "../../../src/core/taxonomy.js";
import { connectTcp, TlsVerificationError, upgradeToTls } from "../transport/socket.js";
import { earliestCertExpiry } from "../transport/tls.js";
import { openTunnel, ProxyConnectError, proxyAuthorization, proxyLabel } from "./proxy.js";

/** The phase label values of one HTTP exchange, in order. */
export const HTTP_PHASES = ["dns", "connect", "tls", "ttfb", "transfer"] as const;
/** One phase of an HTTP exchange. */
export type HttpPhase = (typeof HTTP_PHASES)[number];

/** Times one phase: the request function passes a wrapper that feeds both the caller's PhaseClock and its own record. */
export type TimePhase = <T>(phase: HttpPhase, fn: () => Promise<T>) => Promise<T>;

/** What the connector needs for one connection. */
export interface ConnectInput {
  /** Target host as in the URL (brackets stripped), and port. */
  host: string;
  port: number;
  isHttps: boolean;
  /** From `tlsConnectOptions`: servername, ca, client certificate; `rejectUnauthorized` is ignored for `verify`. */
  tls: ConnectionOptions;
  verify: boolean;
  /** An http:// proxy: https targets go through a CONNECT tunnel, http targets are sent to it in absolute form. */
  proxy?: URL | undefined;
  signal: AbortSignal;
  time: TimePhase;
  /** Called when a handshake completes, before verification is enforced (so also for a refused certificate). */
  onCertExpiry(expiry: number): void;
}

/**
 * Opens one connection, timing `dns` (lookup of the target, or of the proxy), `connect` (TCP; through a proxy also the
 * CONNECT tunnel) and `tls` (end to end with the target, through the tunnel if any). Each failure is a ProbeError with
 * its phase and `net`/`tls` facts; the socket is destroyed on failure and on abort.
 */
export async function openConnection(input: ConnectInput): Promise<Socket | TLSSocket> {
  const { signal, time } = input;
  const via = input.proxy;
  const dialHost = via === undefined ? input.host : via.hostname.replace(/^\[|\]$/g, "");
  const dialPort = via === undefined ? input.port : Number(via.port === "" ? 80 : via.port);
  const where = via === undefined ? `${input.host}:${input.port}` : `proxy ${proxyLabel(via)}`;

  const addresses = await time("dns", () =>
    guard("dns", signal, async () => {
      // All addresses, in the resolver's order: connect tries each, as a browser would.
      const found = await lookup(dialHost, { all: true });
      if (found.length === 0) throw Object.assign(new Error(`no address for ${dialHost}`), { code: "ENODATA" });
      return found.map((a) => a.address);
    }),
  );

  const socket = await time("connect", () =>
    guard("connect", signal, async () => {
      const tcp = await connectFirst(addresses, dialPort, signal);
      if (via !== undefined && input.isHttps) {
        try {
          await openTunnel(tcp, authority(input.host, input.port), proxyAuthorization(via), signal);
        } catch (error) {
          tcp.destroy();
          throw error;
        }
      }
      return tcp;
    }),
  ).catch((error: unknown) => {
    throw withWhere(error, where);
  });

  if (!input.isHttps) return socket;
  return time("tls", () =>
    guard("tls", signal, () =>
      upgradeToTls(socket, {
        connect: input.tls,
        verify: input.verify,
        host: input.host,
        signal,
        onHandshake: (secure) => {
          const expiry = earliestCertExpiry(secure);
          if (expiry !== undefined) input.onCertExpiry(expiry);
        },
      }),
    ),
  );
}

/** `host:port` with IPv6 in brackets. */
export function authority(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

async function connectFirst(addresses: string[], port: number, signal: AbortSignal): Promise<Socket> {
  let last: unknown;
  for (const address of addresses) {
    try {
      return await connectTcp(address, port, signal);
    } catch (error) {
      if (signal.aborted) throw error;
      last = error;
    }
  }
  throw last;
}

/** Runs `fn` and turns its failure into a ProbeError of `phase` with facts the classifier reads. */
async function guard<T>(phase: HttpPhase, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw toPhaseError(phase, error, signal);
  }
}

/** A ProbeError for a failure in `phase`; an abort keeps the signal's reason as cause (the runner says timeout). */
export function toPhaseError(phase: HttpPhase, error: unknown, signal: AbortSignal): ProbeError {
  if (error instanceof ProbeError) return error;
  if (signal.aborted) return new ProbeError(`${phase}: aborted at the deadline`, { phase }, { cause: signal.reason });
  if (error instanceof ProxyConnectError) {
    // The proxy's own status (407: our proxy credentials; 502/503: it could not reach the target).
    return new ProbeError(
      `${phase}: ${error.message}`,
      { phase, facts: { protocol: "http", input: { status: error.status } } },
      { cause: error },
    );
  }
  const code = errorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  const protocol: "tls" | "net" = phase === "tls" || error instanceof TlsVerificationError ? "tls" : "net";
  const facts: ClassifyInput =
    code === undefined && protocol === "net"
      ? { protocol: "probe", input: { class: "protocol" } }
      : { protocol, input: { ...(code === undefined ? {} : { code }), message } };
  return new ProbeError(`${phase}: ${message}`, { phase, facts }, { cause: error });
}

function withWhere(error: unknown, where: string): unknown {
  if (!(error instanceof ProbeError) || error.message.includes(where)) return error;
  const details = {
    ...(error.phase === undefined ? {} : { phase: error.phase }),
    ...(error.facts === undefined ? {} : { facts: error.facts }),
  };
  return new ProbeError(`${error.message} (${where})`, details, { cause: error.cause ?? error });
}

/** The `code` of an error or of the first cause that has one. */
export function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && code !== "") return code;
    current = current.cause;
  }
  return undefined;
}
