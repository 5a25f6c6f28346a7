import { readFileSync } from "node:fs";
import type { SecureVersion } from "node:tls";
import { parseDocument } from "yaml";
import { z } from "zod";
import { formatIssues, formatPath } from "../config/format-issues.js";

/** exporter-toolkit's client_auth_type values (Go's tls.ClientAuthType names). */
export const CLIENT_AUTH_TYPES = [
  "NoClientCert",
  "RequestClientCert",
  "RequireAnyClientCert",
  "VerifyClientCertIfGiven",
  "RequireAndVerifyClientCert",
] as const;
/** What the server asks of a client certificate. */
export type ClientAuthType = (typeof CLIENT_AUTH_TYPES)[number];

const TLS_VERSIONS = { TLS10: "TLSv1", TLS11: "TLSv1.1", TLS12: "TLSv1.2", TLS13: "TLSv1.3" } as const;
const tlsVersion = z.enum(Object.keys(TLS_VERSIONS) as [keyof typeof TLS_VERSIONS, ...(keyof typeof TLS_VERSIONS)[]]);

/** A bcrypt hash as htpasswd -B or bcrypt libraries write it ($2a$, $2b$ or $2y$, cost 04-31). */
const BCRYPT_HASH = /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/;

/** The headers exporter-toolkit lets a web config add to every response. */
const headers = z.strictObject({
  "Content-Security-Policy": z.string().optional(),
  "X-Frame-Options": z.enum(["deny", "sameorigin"]).optional(),
  "X-Content-Type-Options": z.enum(["nosniff"]).optional(),
  "X-XSS-Protection": z.string().optional(),
  "Strict-Transport-Security": z.string().optional(),
});

const unsupported = (why: string) =>
  z.unknown().refine((value) => value === undefined, { message: `not supported by suiteprobe (${why})` });

const tlsServerConfig = z.strictObject({
  cert: z.string().optional(),
  key: z.string().optional(),
  client_ca: z.string().optional(),
  cert_file: z.string().min(1).optional(),
  key_file: z.string().min(1).optional(),
  client_auth_type: z.enum(CLIENT_AUTH_TYPES).default("NoClientCert"),
  client_ca_file: z.string().min(1).optional(),
  client_allowed_sans: z.array(z.string()).optional(),
  min_version: tlsVersion.default("TLS12"),
  max_version: tlsVersion.default("TLS13"),
  prefer_server_cipher_suites: z.boolean().default(true),
  cipher_suites: unsupported("Go cipher suite names; Node's defaults are used").optional(),
  curve_preferences: unsupported("Go curve names; Node's defaults are used").optional(),
});

const webConfigSchema = z.strictObject({
  tls_server_config: tlsServerConfig.optional(),
  http_server_config: z
    .strictObject({
      http2: z.boolean().optional(),
      headers: headers.optional(),
    })
    .optional(),
  basic_auth_users: z
    .record(
      z
        .string()
        .min(1)
        .regex(/^[^:]*$/, { message: "a user name cannot contain ':'" }),
      z.string().regex(BCRYPT_HASH),
    )
    .optional(),
  rate_limit: unsupported("put a reverse proxy in front of the agent").optional(),
});

/** The TLS settings Node's https server takes, resolved from a web config. */
export interface WebTls {
  cert: string;
  key: string;
  ca?: string;
  clientAuth: ClientAuthType;
  clientAllowedSans: readonly string[];
  minVersion: SecureVersion;
  maxVersion: SecureVersion;
  honorCipherOrder: boolean;
}

/** A validated web config: optional TLS, extra response headers, basic-auth users with bcrypt hashes. */
export interface WebConfig {
  tls?: WebTls;
  headers: Readonly<Record<string, string>>;
  users: ReadonlyMap<string, string>;
}

/** A web config load: the config, or one line per problem (never a key, a password or a hash). */
export type WebConfigResult = { ok: true; config: WebConfig } | { ok: false; errors: string[] };

/** The web config when no file is given: plain HTTP, no auth. */
export const OPEN_WEB_CONFIG: WebConfig = { headers: {}, users: new Map() };

/** Largest web config file read; it holds a few users and file paths. */
const MAX_WEB_CONFIG_BYTES = 1024 * 1024;

/** Reads and validates an exporter-toolkit web config file (`--web.config.file`); never throws. */
export function loadWebConfigFile(path: string): WebConfigResult {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    return { ok: false, errors: [`${path}: cannot read web config file (${errorCode(error)})`] };
  }
  if (Buffer.byteLength(text) > MAX_WEB_CONFIG_BYTES) {
    return { ok: false, errors: [`${path}: web config file is larger than 1 MiB; refused`] };
  }
  return parseWebConfig(text, path);
}

/** Validates web config text; problems as `path: message`, all at once. */
export function parseWebConfig(text: string, source: string): WebConfigResult {
  const document = parseDocument(text, { uniqueKeys: true });
  if (document.errors.length > 0) {
    return { ok: false, errors: document.errors.map((e) => `${source}: ${e.message.split("\n")[0] ?? "YAML error"}`) };
  }
  let raw: unknown;
  try {
    raw = document.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (error) {
    return { ok: false, errors: [`${source}: YAML alias cannot be resolved: ${(error as Error).message}`] };
  }
  const parsed = webConfigSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) {
    // A value under basic_auth_users may be a password typed in by mistake: its problem never shows the input.
    const lines = parsed.error.issues.flatMap((issue) =>
      issue.path[0] === "basic_auth_users" && issue.path.length > 1
        ? [`${formatPath(issue.path)}: must be a bcrypt hash ($2y$10$...), never a plain password`]
        : formatIssues([issue]),
    );
    // A problem elsewhere must not hide the TLS section's own (files, client-auth rules): all in one pass.
    const tlsInput = (raw as { tls_server_config?: unknown } | null)?.tls_server_config;
    const tls = tlsInput === undefined ? undefined : tlsServerConfig.safeParse(tlsInput);
    if (tls?.success === true) resolveTls(tls.data, lines);
    return { ok: false, errors: lines.map((l) => `${source}: ${l}`) };
  }
  const data = parsed.data;
  const errors: string[] = [];
  const tls = data.tls_server_config === undefined ? undefined : resolveTls(data.tls_server_config, errors);
  const extra = Object.fromEntries(
    Object.entries(data.http_server_config?.headers ?? {}).filter(
      (entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== "",
    ),
  );
  if (errors.length > 0) return { ok: false, errors: errors.map((l) => `${source}: ${l}`) };
  const config: WebConfig = { headers: extra, users: new Map(Object.entries(data.basic_auth_users ?? {})) };
  if (tls !== undefined) config.tls = tls;
  return { ok: true, config };
}

type TlsInput = z.output<typeof tlsServerConfig>;

function resolveTls(input: TlsInput, errors: string[]): WebTls | undefined {
  const at = "tls_server_config";
  const cert = inlineOrFile(input.cert, input.cert_file, `${at}.cert`, errors);
  const key = inlineOrFile(input.key, input.key_file, `${at}.key`, errors);
  const ca = inlineOrFile(input.client_ca, input.client_ca_file, `${at}.client_ca`, errors);
  if (cert === undefined && input.cert === undefined && input.cert_file === undefined) {
    errors.push(`${at}.cert_file: is required (or cert inline)`);
  }
  if (key === undefined && input.key === undefined && input.key_file === undefined) {
    errors.push(`${at}.key_file: is required (or key inline)`);
  }
  const needsCa =
    input.client_auth_type === "VerifyClientCertIfGiven" || input.client_auth_type === "RequireAndVerifyClientCert";
  if (needsCa && input.client_ca === undefined && input.client_ca_file === undefined) {
    errors.push(`${at}.client_ca_file: is required with client_auth_type ${input.client_auth_type}`);
  }
  if (!needsCa && (input.client_ca !== undefined || input.client_ca_file !== undefined)) {
    errors.push(
      `${at}.client_ca_file: client CAs are set but client_auth_type ${input.client_auth_type} does not verify`,
    );
  }
  const sans = input.client_allowed_sans ?? [];
  if (
    sans.length > 0 &&
    input.client_auth_type !== "RequireAnyClientCert" &&
    input.client_auth_type !== "RequireAndVerifyClientCert"
  ) {
    errors.push(`${at}.client_allowed_sans: needs client_auth_type RequireAnyClientCert or RequireAndVerifyClientCert`);
  }
  if (Number(input.min_version.slice(3)) > Number(input.max_version.slice(3))) {
    errors.push(`${at}.min_version: ${input.min_version} is above max_version ${input.max_version}`);
  }
  if (cert === undefined || key === undefined) return undefined;
  return {
    cert,
    key,
    ...(ca !== undefined && { ca }),
    clientAuth: input.client_auth_type,
    clientAllowedSans: sans,
    minVersion: TLS_VERSIONS[input.min_version],
    maxVersion: TLS_VERSIONS[input.max_version],
    honorCipherOrder: input.prefer_server_cipher_suites,
  };
}

/** The PEM given inline or read from a file; both given is a problem, as in exporter-toolkit. */
function inlineOrFile(
  inline: string | undefined,
  file: string | undefined,
  at: string,
  errors: string[],
): string | undefined {
  if (inline !== undefined && file !== undefined) {
    errors.push(`${at}: set ${at.split(".").at(-1) ?? ""} or ${at.split(".").at(-1) ?? ""}_file, not both`);
    return undefined;
  }
  if (inline !== undefined) return inline;
  if (file === undefined) return undefined;
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    // The path is the operator's own setting and is shown; the file's contents never are.
    errors.push(`${at}_file: ${file} cannot be read (${errorCode(error)})`);
    return undefined;
  }
}

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? "error";
}
