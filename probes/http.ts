/**
 * Kind `http`: one request to a URL, each phase timed (sign-in `auth`, `dns`, `connect`, `tls`, `ttfb`, `transfer`),
 * then assertions on status, body and duration. What users point at anything else: Google Workspace, Nextcloud, an
 * internal status endpoint.
 */
import { z } from "zod";
import { duration } from "../src/core/duration.js";
import { defineKind, type ProbeContext } from "../src/core/probe.js";
import { ProbeError } from "../src/core/probe-error.js";
import { secretRef, type Secret } from "../src/core/secret.js";
import { HTTP_CREDENTIALS } from "./wire/entra/credential.js";
import { API_PHASES, apiRequest, HTTP_FACTS } from "./wire/http/api.js";
import { DEFAULT_MAX_BODY_BYTES, type HttpResponse } from "./wire/http/client.js";
import { parseJsonPath, selectJsonPath } from "./wire/http/json-path.js";
import { tlsFields } from "./wire/transport/tls.js";

/** The `http` phases: sign-in and the request's own, plus `assert` (checks on the answer; a label, never timed). */
export const HTTP_KIND_PHASES = [...API_PHASES, "assert"] as const;

const jsonPath = z
  .string()
  .min(1)
  .max(256)
  .superRefine((path, ctx) => {
    const parsed = parseJsonPath(path);
    if ("error" in parsed) ctx.addIssue({ code: "custom", message: `JSON path ${parsed.error}` });
  });

const jsonAssertion = z
  .strictObject({
    path: jsonPath.describe('JSON path into the body: $, .name, ["name"], [3], [*].'),
    equals: z
      .union([z.string(), z.number(), z.boolean(), z.null()])
      .optional()
      .describe("Every value the path selects equals this (and there is at least one)."),
    exists: z.boolean().optional().describe("true: the path selects something; false: it selects nothing."),
    min_count: z.number().int().min(0).optional().describe("The path selects at least this many values."),
  })
  .refine((a) => [a.equals, a.exists, a.min_count].filter((x) => x !== undefined).length === 1, {
    message: "set exactly one of equals, exists, min_count",
  });

const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/;

/** The `http` block. */
export const httpSettingsSchema = z.strictObject({
  method: z.enum(METHODS).default("GET").describe("Request method."),
  headers: z
    .record(
      z.string().regex(HEADER_NAME, { message: "must be an HTTP header name" }),
      z.union([secretRef, z.string().max(8192)]),
    )
    .default({})
    .describe("Request headers; a value may be a secret reference (${env:NAME} or ${file:/path})."),
  body: z.string().max(1_048_576).optional().describe("Request body, sent as is."),
  credential: z
    .string()
    .min(1)
    .optional()
    .describe("Sign in with this entry of `credentials:` (Entra ID token, bearer or basic): phase auth."),
  expect_status: z
    .array(z.number().int().min(100).max(599))
    .min(1)
    .max(64)
    .optional()
    .describe("Statuses that count as success; default any 2xx."),
  expect_json: z
    .array(jsonAssertion)
    .max(32)
    .optional()
    .describe("Assertions on the JSON body; a failed one is class assertion."),
  max_duration: duration.optional().describe("Slower than this is class assertion, even with the right answer."),
  max_redirects: z
    .number()
    .int()
    .min(0)
    .max(20)
    .default(5)
    .describe("Redirects followed (Authorization and cookies are dropped on a change of origin); 0 reports the 3xx."),
  max_body_bytes: z
    .number()
    .int()
    .min(1)
    .max(64 * 1_048_576)
    .default(DEFAULT_MAX_BODY_BYTES)
    .describe("Body cap; a longer body is class protocol and is not read further."),
  proxy: z
    .url({ protocol: /^http$/, message: "must be an http:// proxy URL" })
    .optional()
    .describe("http:// proxy for this check (CONNECT tunnel for https); default: HTTPS_PROXY/HTTP_PROXY/NO_PROXY."),
  allow_plaintext_auth: z
    .boolean()
    .default(false)
    .describe("Send the credential over plain http:// to a host that is not loopback; off: refused (class config)."),
  ...tlsFields,
});

/** Parsed `http` settings. */
export type HttpSettings = z.output<typeof httpSettingsSchema>;

async function run(ctx: ProbeContext<HttpSettings, undefined>): Promise<void> {
  const { settings, target } = ctx;
  if (target.type !== "url") throw new TypeError("http needs a URL target");
  if (settings.credential !== undefined && !settings.allow_plaintext_auth && !isSafeForCredentials(target.url)) {
    throw new ProbeError("refusing to send a credential over plain http:// (set allow_plaintext_auth to allow)", {
      phase: "auth",
      facts: { protocol: "probe", input: { class: "config" } },
    });
  }
  const started = performance.now();
  const response = await apiRequest(ctx, {
    url: target.url,
    method: settings.method,
    headers: Object.fromEntries(Object.entries(settings.headers).map(([k, v]) => [k, headerValue(v)])),
    protocol: "http",
    maxRedirects: settings.max_redirects,
    maxBodyBytes: settings.max_body_bytes,
    tls: settings,
    ...(settings.body === undefined ? {} : { body: settings.body }),
    ...(settings.proxy === undefined ? {} : { proxy: new URL(settings.proxy) }),
    ...(settings.expect_status === undefined ? {} : { expectStatus: settings.expect_status }),
    ...(settings.credential === undefined ? {} : { credential: ctx.credential(settings.credential) }),
  });
  const seconds = (performance.now() - started) / 1000;
  for (const assertion of settings.expect_json ?? []) checkJson(response, assertion);
  if (settings.max_duration !== undefined && seconds * 1000 > settings.max_duration) {
    throw assertionFailure(`took ${seconds.toFixed(3)}s, more than max_duration ${settings.max_duration / 1000}s`);
  }
}

/** https://, or plain http:// to this machine (a lab or simulator). */
function isSafeForCredentials(url: URL): boolean {
  if (url.protocol === "https:") return true;
  return /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])$/.test(url.hostname);
}

function headerValue(value: string | Secret): string {
  return typeof value === "string" ? value : value.reveal();
}

function checkJson(response: HttpResponse, assertion: z.output<typeof jsonAssertion>): void {
  if (response.json === undefined) throw assertionFailure("the body is not JSON");
  const steps = parseJsonPath(assertion.path);
  if ("error" in steps) throw assertionFailure(`JSON path ${steps.error}`);
  const found = selectJsonPath(response.json, steps);
  const what = `${assertion.path} selected ${found.length} value(s)`;
  if (assertion.exists !== undefined && found.length > 0 !== assertion.exists) {
    throw assertionFailure(`${what}, expected ${assertion.exists ? "some" : "none"}`);
  }
  if (assertion.min_count !== undefined && found.length < assertion.min_count) {
    throw assertionFailure(`${what}, expected at least ${assertion.min_count}`);
  }
  if (assertion.equals !== undefined && (found.length === 0 || found.some((v) => v !== assertion.equals))) {
    // Values are not quoted into the message: a body may carry anything, and messages are logged.
    throw assertionFailure(`${what}, not all equal to the expected value`);
  }
}

function assertionFailure(message: string): ProbeError {
  return new ProbeError(message, { phase: "assert", facts: { protocol: "probe", input: { class: "assertion" } } });
}

/** The `http` probe kind. */
export const httpKind = defineKind<HttpSettings>({
  id: "http",
  title: "HTTP(S) request with optional sign-in: every phase timed, status, JSON body and duration checked",
  settingsSchema: httpSettingsSchema,
  isSettingsOptional: true,
  phases: HTTP_KIND_PHASES,
  facts: HTTP_FACTS,
  credentials: HTTP_CREDENTIALS,
  credentialOf: (s) => s.credential,
  // One credential against one host backs off together; anonymous checks of a host share a scope too.
  throttleScope: (s, target) => (target.type === "url" ? `${s.credential ?? "-"}@${target.url.host}` : undefined),
  target: { type: "url" },
  run,
});
