import type { Socket } from "node:net";

/** The proxy variables the composition root reads from the environment (probes never read `process.env`). */
export interface ProxyEnv {
  HTTPS_PROXY?: string | undefined;
  HTTP_PROXY?: string | undefined;
  NO_PROXY?: string | undefined;
}

/**
 * The proxy for `target` by the curl conventions: `HTTPS_PROXY` for https, `HTTP_PROXY` for http (upper case wins, the
 * lower-case spellings are read too), unless `NO_PROXY` matches: `*`, a host, a `.domain`/`domain` suffix, with an
 * optional `:port`. Returns undefined when no proxy applies. Throws on a proxy value that is not an http:// URL.
 */
export function proxyForUrl(target: URL, env: Record<string, string | undefined>): URL | undefined {
  const pick = (name: string): string | undefined => {
    const value = env[name] ?? env[name.toLowerCase()];
    return value === undefined || value.trim() === "" ? undefined : value.trim();
  };
  const raw = target.protocol === "https:" ? pick("HTTPS_PROXY") : pick("HTTP_PROXY");
  if (raw === undefined) return undefined;
  if (isNoProxy(target, pick("NO_PROXY"))) return undefined;
  return parseProxyUrl(raw);
}

/** Parses a proxy URL; only `http://` proxies are supported (TLS to the target runs end to end through CONNECT). */
export function parseProxyUrl(raw: string): URL {
  let url: URL;
  try {
    // A bare `host:port` is common in proxy variables.
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`);
  } catch {
    throw new Error("proxy is not a valid URL");
  }
  if (url.protocol !== "http:") throw new Error(`proxy scheme ${url.protocol} is not supported (use http://)`);
  return url;
}

function isNoProxy(target: URL, noProxy: string | undefined): boolean {
  if (noProxy === undefined) return false;
  const host = target.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  const port = target.port === "" ? (target.protocol === "https:" ? "443" : "80") : target.port;
  for (const entry of noProxy.split(/[,\s]+/)) {
    if (entry === "") continue;
    if (entry === "*") return true;
    const m = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(entry.toLowerCase());
    if (m === null) continue;
    const name = (m[1] ?? m[2] ?? "").replace(/^\*?\./, "");
    if (m[3] !== undefined && m[3] !== port) continue;
    if (host === name || host.endsWith(`.${name}`)) return true;
  }
  return false;
}

/** A proxy's answer to CONNECT other than 2xx; `status` is the proxy's status code. */
export class ProxyConnectError extends Error {
  override readonly name = "ProxyConnectError";
  readonly status: number;

  constructor(status: number, statusLine: string) {
    super(`proxy refused CONNECT: ${statusLine}`);
    this.status = status;
  }
}

const MAX_CONNECT_REPLY = 16 * 1024;

/**
 * Asks the proxy on `socket` for a tunnel to `authority` (`host:port`) and resolves once it answers 2xx. Bytes after the
 * proxy's reply would belong to the tunnelled protocol before we spoke; that is a protocol error, not data.
 */
export function openTunnel(
  socket: Socket,
  authority: string,
  proxyAuthorization: string | undefined,
  signal: AbortSignal,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const finish = (error?: Error): void => {
      socket.off("data", onData);
      socket.off("error", onError);
      socket.off("close", onClose);
      signal.removeEventListener("abort", onAbort);
      if (error === undefined) {
        socket.pause();
        resolve();
      } else {
        socket.destroy();
        reject(error);
      }
    };
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf("\r\n\r\n");
      if (end === -1) {
        if (buffered.length > MAX_CONNECT_REPLY) finish(new Error("proxy reply to CONNECT too long"));
        return;
      }
      const statusLine = buffered.subarray(0, buffered.indexOf("\r\n")).toString("latin1");
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? NaN);
      if (!Number.isInteger(status)) finish(new Error("proxy sent no HTTP status line to CONNECT"));
      else if (status < 200 || status > 299) finish(new ProxyConnectError(status, statusLine.slice(0, 120)));
      else if (buffered.length > end + 4) finish(new Error("proxy sent data after its CONNECT reply"));
      else finish();
    };
    const onError = (error: Error): void => finish(error);
    const onClose = (): void => finish(new Error("proxy closed the connection during CONNECT"));
    const onAbort = (): void => finish(signal.reason as Error);
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener("abort", onAbort, { once: true });
    socket.on("data", onData);
    socket.on("error", onError);
    socket.on("close", onClose);
    const auth = proxyAuthorization === undefined ? "" : `proxy-authorization: ${proxyAuthorization}\r\n`;
    socket.write(`CONNECT ${authority} HTTP/1.1\r\nhost: ${authority}\r\n${auth}\r\n`);
  });
}

/** `Basic …` for a proxy URL with credentials, undefined without. */
export function proxyAuthorization(proxy: URL): string | undefined {
  if (proxy.username === "") return undefined;
  const user = decodeURIComponent(proxy.username);
  const password = decodeURIComponent(proxy.password);
  return `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
}

/** The proxy URL without credentials, for logs and messages. */
export function proxyLabel(proxy: URL): string {
  return `${proxy.protocol}//${proxy.host}`;
}
