// Simulated Microsoft Entra ID v2.0 token endpoint: POST /{tenant}/oauth2/v2.0/token.
// Grants: https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow
//         https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow#refresh-the-access-token
// Client assertion (x5t#S256, PS256, aud/iss/sub/jti/nbf/exp):
//         https://learn.microsoft.com/entra/identity-platform/certificate-credentials
// Error body and AADSTS codes: https://learn.microsoft.com/entra/identity-platform/reference-error-codes
import {
  constants,
  createHash,
  createPublicKey,
  randomBytes,
  verify,
  X509Certificate,
  type KeyObject,
} from "node:crypto";
import type { SimCore } from "./core.js";
import {
  entraError,
  headerValue,
  json,
  params,
  parseJson,
  type SimReply,
  type SimRequest,
  type SimRoute,
} from "./http.js";
import type { SimApp } from "./state.js";

interface AadstsEntry {
  status: number;
  error: string;
  description: string;
}

/** The AADSTS codes the simulator knows, with the HTTP status and OAuth `error` Entra sends them with. */
export const AADSTS: Readonly<Record<number, AadstsEntry>> = {
  7000215: {
    status: 401,
    error: "invalid_client",
    description:
      "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{app}'.",
  },
  7000222: {
    status: 401,
    error: "invalid_client",
    description:
      "The provided client secret keys for app '{app}' are expired. Visit the Azure portal to create new keys for your app.",
  },
  700016: {
    status: 400,
    error: "unauthorized_client",
    description:
      "Application with identifier '{app}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
  },
  90002: {
    status: 400,
    error: "invalid_request",
    description:
      "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.",
  },
  65001: {
    status: 400,
    error: "invalid_grant",
    description:
      "The user or administrator has not consented to use the application with ID '{app}'. Send an interactive authorization request for this user and resource.",
  },
  53003: {
    status: 400,
    error: "invalid_grant",
    description:
      "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.",
  },
  50076: {
    status: 400,
    error: "invalid_grant",
    description:
      "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '00000003-0000-0000-c000-000000000000'.",
  },
  90033: {
    status: 503,
    error: "temporarily_unavailable",
    description: "A transient error has occurred. Please try again.",
  },
  90055: {
    status: 429,
    error: "temporarily_unavailable",
    description: "There are too many incoming requests. This exception is thrown for blocked tenants.",
  },
  700027: { status: 401, error: "invalid_client", description: "Client assertion failed signature validation." },
  700021: {
    status: 401,
    error: "invalid_client",
    description: "Client assertion application identifier doesn't match 'client_id' parameter.",
  },
  700023: {
    status: 401,
    error: "invalid_client",
    description: "Client assertion audience claim does not match Realm issuer.",
  },
  700024: { status: 401, error: "invalid_client", description: "Client assertion is not within its valid time range." },
  50027: { status: 400, error: "invalid_request", description: "JWT token is invalid or malformed." },
  70000: {
    status: 400,
    error: "invalid_grant",
    description: "Provided grant is invalid or malformed. The refresh token isn't valid.",
  },
  700082: {
    status: 400,
    error: "invalid_grant",
    description: "The refresh token has expired due to inactivity.",
  },
  900144: {
    status: 400,
    error: "invalid_request",
    description: "The request body must contain the following parameter: '{param}'.",
  },
  1002012: {
    status: 400,
    error: "invalid_scope",
    description:
      "The provided value for scope {param} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).",
  },
};

/** The Entra error reply for an AADSTS code; unknown codes become a 400 invalid_request. */
export function aadstsReply(
  code: number,
  fill: { app?: string; tenant?: string; param?: string } = {},
  status?: number,
): SimReply {
  const entry = AADSTS[code] ?? { status: 400, error: "invalid_request", description: "Simulated error." };
  const description = entry.description
    .replace("{app}", fill.app ?? "")
    .replace("{tenant}", fill.tenant ?? "")
    .replace("{param}", fill.param ?? "");
  return entraError(status ?? entry.status, entry.error, code, description);
}

const ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/** The token route. */
export const entraRoutes: SimRoute[] = [
  {
    method: "POST",
    pattern: /^\/([^/]+)\/oauth2\/v2\.0\/token$/,
    endpoint: "entra.token",
    family: "entra",
    handle: (req, ctx) => token(req, ctx.core, decodeURIComponent(ctx.params[0] ?? "")),
  },
];

function token(req: SimRequest, core: SimCore, tenant: string): SimReply {
  const { world } = core;
  if (tenant !== world.tenant && tenant !== world.tenantId && tenant !== "organizations") {
    return aadstsReply(90002, { tenant });
  }
  const form = params(req);
  const grantType = form.get("grant_type");
  if (grantType === null) return aadstsReply(900144, { param: "grant_type" });
  const clientId = form.get("client_id");
  if (clientId === null) return aadstsReply(900144, { param: "client_id" });
  const app = world.apps.find((a) => a.clientId === clientId);
  if (app === undefined) return aadstsReply(700016, { app: clientId, tenant });

  if (grantType === "client_credentials") {
    const scope = form.get("scope");
    if (scope === null) return aadstsReply(900144, { param: "scope" });
    if (!scope.split(" ").every((s) => s.endsWith("/.default"))) return aadstsReply(1002012, { param: scope });
    const failure = authenticateClient(req, core, app, form, tenant, true);
    if (failure !== undefined) return failure;
    return json(200, issue(core, { clientId, isAppOnly: true, permissions: app.roles, userId: undefined }));
  }
  if (grantType === "refresh_token") {
    const presented = form.get("refresh_token");
    if (presented === null) return aadstsReply(900144, { param: "refresh_token" });
    // A confidential client authenticates here too; a public client (no secret, no assertion) may not.
    const failure = authenticateClient(req, core, app, form, tenant, false);
    if (failure !== undefined) return failure;
    const record = core.refreshTokens.get(presented);
    if (record?.clientId !== clientId) return aadstsReply(70000);
    // Rotation: the presented refresh token is spent, a new one comes back with the access token.
    core.refreshTokens.delete(presented);
    const next = `sim-rt-${randomBytes(24).toString("base64url")}`;
    core.refreshTokens.set(next, record);
    const requested = (form.get("scope") ?? "").split(" ").filter((s) => s.length > 0);
    const isAll = requested.length === 0 || requested.some((s) => s.endsWith("/.default"));
    const scopes = app.delegatedScopes.filter((s) => isAll || requested.includes(s));
    const body = issue(core, { clientId, isAppOnly: false, permissions: scopes, userId: record.userId });
    return json(200, { ...body, scope: scopes.join(" "), refresh_token: next });
  }
  return entraError(
    400,
    "unsupported_grant_type",
    70003,
    `The app requested an unsupported grant type '${grantType}'.`,
  );
}

function issue(
  core: SimCore,
  grant: { clientId: string; isAppOnly: boolean; permissions: string[]; userId: string | undefined },
): Record<string, unknown> {
  const accessToken = `eyJ0eXAiOiJKV1QiLCJzaW0iOnRydWV9.${randomBytes(32).toString("base64url")}`;
  const lifetime = core.world.tokenLifetimeSeconds;
  core.tokens.set(accessToken, { ...grant, expiresAt: core.now() + lifetime * 1000 });
  return { token_type: "Bearer", expires_in: lifetime, ext_expires_in: lifetime, access_token: accessToken };
}

/** Checks the client secret or the signed assertion; undefined when the client is authenticated. */
function authenticateClient(
  req: SimRequest,
  core: SimCore,
  app: SimApp,
  form: URLSearchParams,
  tenant: string,
  isRequired: boolean,
): SimReply | undefined {
  const secret = form.get("client_secret");
  const assertion = form.get("client_assertion");
  if (secret !== null) {
    if (app.secret === undefined || secret !== app.secret) return aadstsReply(7000215, { app: app.clientId });
    if (app.secretExpiresAt !== undefined && core.now() >= app.secretExpiresAt) {
      return aadstsReply(7000222, { app: app.clientId });
    }
    return undefined;
  }
  if (assertion !== null) {
    if (form.get("client_assertion_type") !== ASSERTION_TYPE)
      return aadstsReply(900144, { param: "client_assertion_type" });
    const code = verifyAssertion(req, core, app, assertion, tenant);
    return code === undefined ? undefined : aadstsReply(code, { app: app.clientId });
  }
  return isRequired ? aadstsReply(900144, { param: "client_assertion' or 'client_secret" }) : undefined;
}

/** Verifies a client-assertion JWT; answers the AADSTS code of the first problem, or undefined. */
export function verifyAssertion(
  req: SimRequest,
  core: SimCore,
  app: SimApp,
  assertion: string,
  tenant: string,
): number | undefined {
  const parts = assertion.split(".");
  if (parts.length !== 3) return 50027;
  const [headerPart = "", payloadPart = "", signaturePart = ""] = parts;
  const header = decodeSegment(headerPart);
  const claims = decodeSegment(payloadPart);
  if (header === undefined || claims === undefined) return 50027;
  if (app.certificate === undefined) return 700027;
  const alg = header["alg"];
  if (alg !== "PS256" && alg !== "RS256") return 50027;
  const { key, thumbprint } = loadKey(app.certificate);
  const x5t = header["x5t#S256"];
  if (thumbprint !== undefined && x5t !== undefined && x5t !== thumbprint) return 700027;
  const data = Buffer.from(`${headerPart}.${payloadPart}`);
  const signature = Buffer.from(signaturePart, "base64url");
  const isValid =
    alg === "PS256"
      ? verify("sha256", data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, signature)
      : verify("sha256", data, key, signature);
  if (!isValid) return 700027;
  if (claims["iss"] !== app.clientId || claims["sub"] !== app.clientId) return 700021;
  if (!acceptedAudiences(req, core, tenant).includes(String(claims["aud"]))) return 700023;
  const now = core.now() / 1000;
  const exp = claims["exp"];
  const nbf = claims["nbf"];
  if (typeof exp !== "number" || exp <= now) return 700024;
  if (typeof nbf === "number" && nbf > now + 60) return 700024;
  if (typeof claims["jti"] !== "string" || claims["jti"] === "") return 50027;
  return undefined;
}

/** The token endpoint URL in every spelling a client may have used to reach this simulator. */
function acceptedAudiences(req: SimRequest, core: SimCore, tenant: string): string[] {
  const host = headerValue(req, "host");
  const bases = [core.baseUrl];
  if (host !== undefined) bases.push(`${req.url.protocol}//${host}`);
  const tenants = [tenant, core.world.tenant, core.world.tenantId];
  return bases.flatMap((base) => tenants.map((t) => `${base}/${t}/oauth2/v2.0/token`));
}

function loadKey(pem: string): { key: KeyObject; thumbprint: string | undefined } {
  if (pem.includes("BEGIN CERTIFICATE")) {
    const cert = new X509Certificate(pem);
    return { key: cert.publicKey, thumbprint: createHash("sha256").update(cert.raw).digest("base64url") };
  }
  return { key: createPublicKey(pem), thumbprint: undefined };
}

function decodeSegment(segment: string): Record<string, unknown> | undefined {
  const parsed = parseJson(Buffer.from(segment, "base64url").toString("utf8"));
  return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
    ? (parsed as Record<string, unknown>)
    : undefined;
}
