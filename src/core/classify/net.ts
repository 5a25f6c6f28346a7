import type { Classification } from "../taxonomy.js";
import { asText } from "./text.js";
import { fromVerdict, unknownResult, type Verdict } from "./verdict.js";

/**
 * Node (libuv, c-ares), OpenSSL-via-Node, undici and llhttp error codes, each with its verdict (error-facts.md §7–8).
 * The keys are the only Node/undici/OpenSSL values `code` can take.
 */
export const NET_CODE_TABLE: Readonly<Record<string, Verdict>> = {
  // DNS: a name that does not exist is our configuration; a resolver that fails is the network.
  ENOTFOUND: { class: "dns", retryable: false, side: "config" },
  ENODATA: { class: "dns", retryable: false, side: "config" },
  EAI_NONAME: { class: "dns", retryable: false, side: "config" },
  EBADNAME: { class: "dns", retryable: false, side: "config" },
  EAI_AGAIN: { class: "dns", retryable: true, side: "network" },
  ESERVFAIL: { class: "dns", retryable: true, side: "network" },
  EREFUSED: { class: "dns", retryable: true, side: "network" },
  ETIMEOUT: { class: "dns", retryable: true, side: "network" },
  EAI_FAIL: { class: "dns", retryable: false, side: "network" },
  // Connection refused, reset or closed.
  ECONNREFUSED: { class: "connect" },
  ECONNRESET: { class: "connect" },
  ECONNABORTED: { class: "connect" },
  EHOSTUNREACH: { class: "connect" },
  EHOSTDOWN: { class: "connect" },
  ENETUNREACH: { class: "connect" },
  ENETDOWN: { class: "connect" },
  EPIPE: { class: "connect" },
  UND_ERR_SOCKET: { class: "connect" },
  // undici's own notices ("reset", "socket idle timeout", "aborted"): the socket went away under the request. The
  // dns interceptor's "No DNS entries found" is read from the message first (CODE_MESSAGE_RULES).
  UND_ERR_INFO: { class: "connect" },
  // A proxy on our path refused or dropped the tunnel; the wrapped cause, when recognised, decides first (failure.ts).
  UND_ERR_PRX_CONN: { class: "connect" },
  UND_ERR_SOCKS5: { class: "connect" },
  UND_ERR_CLOSED: { class: "connect" },
  UND_ERR_DESTROYED: { class: "connect" },
  ERR_STREAM_PREMATURE_CLOSE: { class: "connect" },
  ERR_SOCKET_CLOSED: { class: "connect" },
  // Deadlines: before a connection exists it is the network; once the peer has the request it is the provider.
  ETIMEDOUT: { class: "timeout", side: "network" },
  UND_ERR_CONNECT_TIMEOUT: { class: "timeout", side: "network" },
  ERR_SOCKET_CONNECTION_TIMEOUT: { class: "timeout", side: "network" },
  ABORT_ERR: { class: "timeout", side: "network" },
  UND_ERR_ABORT: { class: "timeout", side: "network" },
  UND_ERR_ABORTED: { class: "timeout", side: "network" },
  UND_ERR_HEADERS_TIMEOUT: { class: "timeout", side: "provider" },
  UND_ERR_BODY_TIMEOUT: { class: "timeout", side: "provider" },
  ERR_TLS_HANDSHAKE_TIMEOUT: { class: "timeout", side: "provider" },
  // Certificates: expired / not yet valid is the provider's to fix; trust and name problems are ours to configure.
  CERT_HAS_EXPIRED: { class: "tls", side: "provider" },
  CERT_NOT_YET_VALID: { class: "tls", side: "provider" },
  DEPTH_ZERO_SELF_SIGNED_CERT: { class: "tls" },
  SELF_SIGNED_CERT_IN_CHAIN: { class: "tls" },
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: { class: "tls" },
  UNABLE_TO_GET_ISSUER_CERT: { class: "tls" },
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: { class: "tls" },
  CERT_UNTRUSTED: { class: "tls" },
  CERT_REVOKED: { class: "tls" },
  CERT_REJECTED: { class: "tls" },
  CERT_SIGNATURE_FAILURE: { class: "tls" },
  HOSTNAME_MISMATCH: { class: "tls" },
  ERR_TLS_CERT_ALTNAME_INVALID: { class: "tls" },
  // Handshake: TLS spoken to a plaintext port (implicit TLS to 587), protocol versions that do not overlap.
  ERR_SSL_WRONG_VERSION_NUMBER: { class: "tls" },
  ERR_SSL_PACKET_LENGTH_TOO_LONG: { class: "tls" },
  ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION: { class: "tls" },
  ERR_SSL_UNSUPPORTED_PROTOCOL: { class: "tls" },
  ERR_SSL_NO_PROTOCOLS_AVAILABLE: { class: "tls" },
  ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE: { class: "tls" },
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: { class: "tls" },
  // TLS to an HTTPS proxy failed: the proxy and its trust are ours to configure (the wrapped cause decides first).
  UND_ERR_PRX_TLS: { class: "tls" },
  // suiteprobe's own: the server did not advertise STARTTLS although the check requires it (provider change or a
  // downgrade on the path; either way not our configuration that changed).
  STARTTLS_NOT_OFFERED: { class: "tls", side: "provider" },
  // The peer's HTTP output was malformed or too large.
  UND_ERR_HEADERS_OVERFLOW: { class: "protocol", side: "provider" },
  UND_ERR_RES_EXCEEDED_MAX_SIZE: { class: "protocol", side: "provider" },
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: { class: "protocol", side: "provider" },
  UND_ERR_REQ_CONTENT_LENGTH_MISMATCH: { class: "protocol" },
  // Retries spent on a resumed download whose ranges or ETag no longer matched (an error status is read as HTTP first).
  UND_ERR_REQ_RETRY: { class: "protocol", side: "provider" },
  // More redirects than the check allows: a loop or a moved endpoint on the peer's side.
  UND_ERR_REDIRECT_MAX: { class: "protocol", side: "provider" },
  HPE_INVALID_CONSTANT: { class: "protocol", side: "provider" },
  HPE_INVALID_VERSION: { class: "protocol", side: "provider" },
  HPE_INVALID_STATUS: { class: "protocol", side: "provider" },
  HPE_INVALID_HEADER_TOKEN: { class: "protocol", side: "provider" },
  HPE_HEADER_OVERFLOW: { class: "protocol", side: "provider" },
  HPE_INVALID_CHUNK_SIZE: { class: "protocol", side: "provider" },
  HPE_INVALID_CONTENT_LENGTH: { class: "protocol", side: "provider" },
  HPE_UNEXPECTED_CONTENT_LENGTH: { class: "protocol", side: "provider" },
  HPE_CLOSED_CONNECTION: { class: "protocol", side: "provider" },
  // Local files and arguments: the check cannot run as configured.
  ENOENT: { class: "config" },
  EACCES: { class: "config" },
  EPERM: { class: "config" },
  EISDIR: { class: "config" },
  ERR_INVALID_URL: { class: "config" },
  UND_ERR_INVALID_ARG: { class: "config" },
  UND_ERR_NOT_SUPPORTED: { class: "config" },
  UND_ERR_BPL_MISSING_UPSTREAM: { class: "config" },
  // Local resource exhaustion: this host ran out of file descriptors (EMFILE per process, ENFILE system-wide) or of
  // ephemeral ports (EADDRNOTAVAIL on connect). Nothing on the network or at the provider failed, so the side is ours;
  // descriptors and ports free up as other sockets close, so a later run may succeed.
  EMFILE: { class: "config", retryable: true },
  ENFILE: { class: "config", retryable: true },
  EADDRNOTAVAIL: { class: "config", retryable: true },
  ERR_OSSL_PEM_NO_START_LINE: { class: "config" },
};

const NET_CODES: ReadonlyMap<string, Verdict> = new Map(Object.entries(NET_CODE_TABLE));

/** The recognised Node/undici/OpenSSL codes (a fixed list: the keys of NET_CODE_TABLE). */
export const KNOWN_NET_CODES: ReadonlySet<string> = new Set(NET_CODES.keys());

/** Code-shaped tokens inside a message such as `connect ECONNREFUSED 127.0.0.1:25`. */
const CODE_TOKEN =
  /\b(?:E[A-Z][A-Z_]{2,}|ERR_[A-Z0-9_]+|UND_ERR_[A-Z_]+|HPE_[A-Z_]+|CERT_[A-Z_]+|UNABLE_TO_[A-Z_]+|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|HOSTNAME_MISMATCH)\b/g;

interface MessageRule {
  readonly match: RegExp;
  readonly result: Verdict;
}

/** Families of codes not listed one by one. */
const CODE_PREFIX_RULES: readonly MessageRule[] = [
  { match: /^(?:ERR_SSL_|ERR_TLS_)/, result: { class: "tls" } },
  { match: /^HPE_/, result: { class: "protocol", side: "provider" } },
];

/** Node's and undici's fixed messages, for errors that reached us without a `code`. */
const MESSAGE_RULES: readonly MessageRule[] = [
  { match: /certificate has expired|certificate is not yet valid/i, result: { class: "tls", side: "provider" } },
  {
    match:
      /self[- ]signed certificate|unable to verify the first certificate|unable to get (?:local )?issuer certificate|does not match certificate's altnames|wrong version number|unsupported protocol|handshake failure/i,
    result: { class: "tls" },
  },
  { match: /getaddrinfo enotfound/i, result: { class: "dns", retryable: false, side: "config" } },
  // WHATWG fetch's network error for a redirect loop (undici lib/web/fetch/index.js), which carries no code.
  { match: /redirect count exceeded|max redirects/i, result: { class: "protocol", side: "provider" } },
  { match: /too many open files/i, result: { class: "config", retryable: true } },
  { match: /headers timeout|body timeout/i, result: { class: "timeout", side: "provider" } },
  { match: /timed? ?out|timeout/i, result: { class: "timeout" } },
  {
    match: /socket hang up|other side closed|socket disconnected|connection (?:reset|refused|closed)/i,
    result: { class: "connect" },
  },
];

/** Codes whose meaning depends on undici's fixed message: checked before the code's own row. */
const CODE_MESSAGE_RULES: ReadonlyMap<string, readonly MessageRule[]> = new Map([
  // undici's dns interceptor: the name resolved to nothing (lib/interceptor/dns.js).
  ["UND_ERR_INFO", [{ match: /^No DNS entries found$/, result: { class: "dns", retryable: false, side: "config" } }]],
]);

function lookup(code: string): Verdict | undefined {
  return NET_CODES.get(code);
}

/** Classifies a Node/undici/OpenSSL failure from its `code`, else from code tokens or fixed phrases in `message`. */
export function classifyNet(protocol: "net" | "tls", input: { code?: unknown; message?: unknown }): Classification {
  const code = asText(input.code).trim().slice(0, 64).toUpperCase();
  const message = asText(input.message);
  const special = CODE_MESSAGE_RULES.get(code)?.find((r) => r.match.test(message.trim()));
  if (special !== undefined) return fromVerdict(special.result, code);
  const known = code === "" ? undefined : lookup(code);
  if (known !== undefined) return fromVerdict(known, code);
  for (const m of message.matchAll(CODE_TOKEN)) {
    const verdict = lookup(m[0]);
    if (verdict !== undefined) return fromVerdict(verdict, m[0]);
  }
  const seen = code !== "" ? "other" : "none";
  const prefixRule = CODE_PREFIX_RULES.find((r) => r.match.test(code));
  if (prefixRule !== undefined) return fromVerdict(prefixRule.result, "other");
  const messageRule = MESSAGE_RULES.find((r) => r.match.test(message));
  if (messageRule !== undefined) return fromVerdict(messageRule.result, seen);
  // A failure the probe attributed to TLS stays a TLS failure even when we cannot say more.
  if (protocol === "tls" && (code !== "" || message.trim() !== "")) return fromVerdict({ class: "tls" }, "other");
  return unknownResult(code !== "" || message.trim() !== "" ? "other" : "none");
}
