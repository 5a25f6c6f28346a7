import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from "node:tls";

/** A certificate the handshake completed with but verification refused; `code` is OpenSSL's or Node's code. */
export class TlsVerificationError extends Error {
  override readonly name = "TlsVerificationError";
  readonly code: string;

  constructor(code: string) {
    super(`certificate verification failed: ${code}`);
    this.code = code;
  }
}

/** Opens a TCP connection; rejects with the socket error, or `signal.reason` after destroying the socket on abort. */
export function connectTcp(host: string, port: number, signal: AbortSignal): Promise<Socket> {
  return settle(netConnect({ host, port }), "connect", signal);
}

/** TLS over an open socket (implicit TLS or STARTTLS). */
export interface TlsUpgradeOptions {
  /** From `tlsConnectOptions`; `rejectUnauthorized` is ignored in favour of `verify`. */
  connect: ConnectionOptions;
  /** Refuse a certificate that fails chain or name verification. */
  verify: boolean;
  /** The handshake's server name check falls back to this when `connect.servername` is unset. */
  host: string;
  /** Called once the handshake completes, before verification is enforced: the chain is readable even if refused. */
  onHandshake?: (socket: TLSSocket) => void;
  signal: AbortSignal;
}

/**
 * Runs a TLS handshake over `socket`. Verification is done here rather than by `rejectUnauthorized` so that the peer
 * chain can still be read (expiry reported) when the certificate is refused; the socket is destroyed before any
 * application data is sent over it.
 */
export async function upgradeToTls(socket: Socket, options: TlsUpgradeOptions): Promise<TLSSocket> {
  const secure = tlsConnect({ ...options.connect, host: options.host, socket, rejectUnauthorized: false });
  // Errors of the raw socket surface on the TLS socket; keep the raw one from crashing the process on its own.
  socket.on("error", ignore);
  await settle(secure, "secureConnect", options.signal, () => socket.destroy());
  options.onHandshake?.(secure);
  if (options.verify && !secure.authorized) {
    secure.destroy();
    socket.destroy();
    const reason = secure.authorizationError as unknown;
    throw new TlsVerificationError(
      typeof reason === "string" ? reason : reason instanceof Error ? reason.message : "UNKNOWN",
    );
  }
  return secure;
}

function settle<T extends Socket>(socket: T, event: string, signal: AbortSignal, cleanup?: () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      done();
      socket.destroy();
      cleanup?.();
      reject(signal.reason as Error);
    };
    const onError = (error: Error): void => {
      done();
      socket.destroy();
      cleanup?.();
      reject(error);
    };
    const onReady = (): void => {
      done();
      resolve(socket);
    };
    const done = (): void => {
      signal.removeEventListener("abort", onAbort);
      socket.off("error", onError);
      socket.off(event, onReady);
    };
    // Never leave a socket without an error listener: later errors are read through the LineReader.
    socket.on("error", ignore);
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener("abort", onAbort, { once: true });
    socket.once("error", onError);
    socket.once(event, onReady);
  });
}

function ignore(): void {}
