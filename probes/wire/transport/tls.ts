import { readFile } from "node:fs/promises";
import type { ConnectionOptions, PeerCertificate, TLSSocket } from "node:tls";
import { isIP } from "node:net";
import { z } from "zod";
import { gaugeFact } from "../../../src/core/facts.js";
import { ProbeError } from "../../../src/core/probe-error.js";

/** TLS fields shared by every kind that speaks TLS (SMTP, IMAP, HTTP). */
export const tlsFields = {
  servername: z
    .string()
    .min(1)
    .optional()
    .describe("Name sent in SNI and checked against the certificate; defaults to the target host."),
  ca_file: z
    .string()
    .min(1)
    .optional()
    .describe("PEM file of CA certificates to trust instead of Node's bundled roots."),
  insecure_skip_verify: z
    .boolean()
    .default(false)
    .describe("Accept any certificate (expiry is still reported). Off by default; for lab use only."),
  cert_file: z.string().min(1).optional().describe("PEM file of a client certificate (mutual TLS); needs key_file."),
  key_file: z
    .string()
    .min(1)
    .optional()
    .describe("PEM file of the client certificate's private key (unencrypted); needs cert_file."),
};

/** The parsed shape of `tlsFields`. */
export interface TlsSettings {
  servername?: string | undefined;
  ca_file?: string | undefined;
  insecure_skip_verify: boolean;
  cert_file?: string | undefined;
  key_file?: string | undefined;
}

/** Options for `tls.connect`, reading the CA file now so a vanished file is a `config` failure, not a crash. */
export async function tlsConnectOptions(settings: TlsSettings, host: string): Promise<ConnectionOptions> {
  const servername = settings.servername ?? (isIP(host) === 0 ? host : undefined);
  const options: ConnectionOptions = { rejectUnauthorized: !settings.insecure_skip_verify };
  if (servername !== undefined) options.servername = servername;
  if (settings.ca_file !== undefined) options.ca = await readPem(settings.ca_file, "CA file");
  if ((settings.cert_file === undefined) !== (settings.key_file === undefined)) {
    throw new ProbeError("cert_file and key_file must be given together", {
      phase: "tls",
      facts: { protocol: "probe", input: { class: "config" } },
    });
  }
  if (settings.cert_file !== undefined && settings.key_file !== undefined) {
    options.cert = await readPem(settings.cert_file, "client certificate file");
    options.key = await readPem(settings.key_file, "client key file");
  }
  // Hostname checks for IP targets without a servername still work: Node checks IP SANs against `host`.
  return options;
}

async function readPem(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    throw new ProbeError(
      `${what} ${path} cannot be read`,
      { phase: "tls", facts: { protocol: "probe", input: { class: "config" } } },
      { cause: error },
    );
  }
}

/** Earliest `valid_to` of the peer's certificate chain, Unix seconds; undefined when there is no certificate. */
export function earliestCertExpiry(socket: TLSSocket): number | undefined {
  let earliest: number | undefined;
  const seen = new Set<PeerCertificate>();
  // null when the socket has no handle any more (destroyed); the typings omit that case.
  let cert: PeerCertificate | null | undefined = socket.getPeerCertificate(true);
  while (cert !== undefined && cert !== null && Object.keys(cert).length > 0 && !seen.has(cert)) {
    seen.add(cert);
    const notAfter = Date.parse(cert.valid_to) / 1000;
    if (Number.isFinite(notAfter) && (earliest === undefined || notAfter < earliest)) earliest = notAfter;
    const issuer: PeerCertificate | undefined = (cert as { issuerCertificate?: PeerCertificate }).issuerCertificate;
    cert = issuer === cert ? undefined : issuer;
  }
  return earliest;
}

/** Earliest `notAfter` of the peer's certificate chain over the run's TLS handshakes (blackbox_exporter's name). */
export const CERT_EXPIRY_FACT = gaugeFact(
  "probe_ssl_earliest_cert_expiry",
  "Unix time of the earliest certificate expiry in the chain of the last TLS handshake.",
  { merge: "min", isClearedWhenUnreported: true },
);
/** The opt-in for credentials over a plain-text connection (socket kinds with `tls` and `auth`). */
export const plaintextAuthField = {
  allow_plaintext_auth: z
    .boolean()
    .default(false)
    .describe("Allow auth with tls: none, i.e. credentials in plain text. Off by default; for loopback labs only."),
};

/** Why a block is refused when it would send credentials in plain text without `allow_plaintext_auth: true`. */
export const PLAINTEXT_AUTH_MESSAGE =
  "would be sent in plain text with tls: none; use tls: starttls or implicit, or set allow_plaintext_auth: true (loopback labs only)";

/** Adds the plain-text-credentials issue at `auth` (prefixed by `path`) when tls is none and auth is set. */
export function checkPlaintextAuth(
  settings: { tls: string; auth?: unknown; allow_plaintext_auth: boolean },
  issues: { addIssue(issue: { code: "custom"; path: (string | number)[]; message: string }): void },
  path: (string | number)[] = [],
): void {
  if (settings.tls === "none" && settings.auth !== undefined && !settings.allow_plaintext_auth) {
    issues.addIssue({ code: "custom", path: [...path, "auth"], message: PLAINTEXT_AUTH_MESSAGE });
  }
}
