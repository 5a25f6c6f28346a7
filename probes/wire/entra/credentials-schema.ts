import { z } from "zod";
import { secretRef } from "../../../src/core/secret.js";

/** Sign-in endpoints and Graph per Microsoft cloud (national clouds: learn.microsoft.com/graph/deployments). */
export const ENTRA_CLOUDS = {
  public: { authority: "https://login.microsoftonline.com", graph: "https://graph.microsoft.com" },
  usgov: { authority: "https://login.microsoftonline.us", graph: "https://graph.microsoft.us" },
  china: { authority: "https://login.chinacloudapi.cn", graph: "https://microsoftgraph.chinacloudapi.cn" },
} as const;
/** A Microsoft cloud name. */
export type EntraCloud = keyof typeof ENTRA_CLOUDS;

const CLOUD_NAMES = Object.keys(ENTRA_CLOUDS) as [EntraCloud, ...EntraCloud[]];
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TENANT = /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)$/i;

const httpUrl = z
  .url({ protocol: /^https?$/, message: "must be an http:// or https:// URL" })
  .transform((url) => url.replace(/\/+$/, ""));

/** Fields every Entra sign-in has. */
const entraFields = {
  tenant: z
    .string()
    .regex(TENANT, { message: "must be a tenant id (GUID) or a verified domain like contoso.onmicrosoft.com" })
    .describe("Directory (tenant) ID or a verified domain of the tenant, e.g. contoso.onmicrosoft.com."),
  client_id: z
    .string()
    .regex(GUID, { message: "must be the application (client) ID, a GUID" })
    .describe("Application (client) ID of the app registration."),
  cloud: z
    .enum(CLOUD_NAMES)
    .default("public")
    .describe(
      "Microsoft cloud: public, usgov (GCC High/DoD) or china (21Vianet); sets the default authority and scope.",
    ),
  authority: httpUrl
    .optional()
    .describe(
      "Sign-in base URL; the token endpoint is {authority}/{tenant}/oauth2/v2.0/token. Defaults to the cloud's " +
        "(https://login.microsoftonline.com for public); set it for a proxy or a local simulator.",
    ),
  proxy: httpUrl
    .optional()
    .describe("http:// proxy for token requests; defaults to HTTPS_PROXY/NO_PROXY from the agent's environment."),
};

const clientSecretSchema = z.strictObject({
  type: z.literal("entra_client_secret").describe("App-only sign-in (client credentials) with a client secret."),
  ...entraFields,
  client_secret: secretRef.describe("Client secret value (not its ID), as ${env:NAME} or ${file:/path}."),
  scope: z
    .string()
    .min(1)
    .optional()
    .describe("Scope requested; default the cloud's Graph `/.default` (https://graph.microsoft.com/.default)."),
});

const certificateSchema = z.strictObject({
  type: z
    .literal("entra_certificate")
    .describe("App-only sign-in (client credentials) with a certificate: a signed client assertion (PS256)."),
  ...entraFields,
  certificate_file: z
    .string()
    .min(1)
    .describe("PEM file of the certificate uploaded to the app registration (may also hold the private key)."),
  private_key_file: z
    .string()
    .min(1)
    .optional()
    .describe("PEM file of the certificate's RSA private key (unencrypted); default: read it from certificate_file."),
  scope: clientSecretSchema.shape.scope,
});

const refreshTokenSchema = z.strictObject({
  type: z
    .literal("entra_refresh_token")
    .describe("Delegated sign-in as a dedicated probe user: the refresh-token grant, for APIs Graph allows only so."),
  ...entraFields,
  refresh_token_file: z
    .string()
    .min(1)
    .describe(
      "File holding the user's refresh token, seeded once; the agent rewrites it (mode 0600) as Entra rotates the " +
        "token. Never put the token itself in the config.",
    ),
  client_secret: secretRef
    .optional()
    .describe("Client secret, for an app registered as a confidential client; leave out for a public client."),
  scope: z
    .string()
    .min(1)
    .optional()
    .describe(
      "Scopes requested; default the cloud's Graph `/.default` plus offline_access (to get a new refresh token).",
    ),
});

const bearerSchema = z.strictObject({
  type: z.literal("bearer").describe("A fixed bearer token sent as `Authorization: Bearer …`."),
  token: secretRef.describe("The token, as ${env:NAME} or ${file:/path}."),
});

const basicSchema = z.strictObject({
  type: z.literal("basic").describe("HTTP Basic authentication."),
  username: z.string().min(1).describe("User name."),
  password: secretRef.describe("Password, as ${env:NAME} or ${file:/path}."),
});

/** One named sign-in under the top-level `credentials:` block. */
export const credentialSchema = z
  .discriminatedUnion("type", [clientSecretSchema, certificateSchema, refreshTokenSchema, bearerSchema, basicSchema])
  .describe("A sign-in shared by the checks that name it: entra_* (Microsoft Entra ID), bearer or basic.");

/** The top-level `credentials:` block: names to sign-ins. */
export const credentialsSchema = z
  .record(
    z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, {
      message: "must be 1–63 letters, digits, '_', '.' or '-', starting with a letter or digit",
    }),
    credentialSchema,
  )
  .describe("Named sign-ins, shared by the checks that use them (`credential: <name>`).");

/** A parsed credential. */
export type CredentialSettings = z.output<typeof credentialSchema>;
/** A parsed Entra credential (the ones the token provider serves). */
export type EntraCredentialSettings = Extract<CredentialSettings, { type: `entra_${string}` }>;

/** The token endpoint of a credential: {authority}/{tenant}/oauth2/v2.0/token. */
export function tokenUrl(credential: EntraCredentialSettings): URL {
  const authority = credential.authority ?? ENTRA_CLOUDS[credential.cloud].authority;
  return new URL(`${authority}/${encodeURIComponent(credential.tenant)}/oauth2/v2.0/token`);
}

/** The scope requested: explicit, else the cloud's Graph `/.default` (plus offline_access for the refresh grant). */
export function tokenScope(credential: EntraCredentialSettings): string {
  if (credential.scope !== undefined) return credential.scope;
  const graph = `${ENTRA_CLOUDS[credential.cloud].graph}/.default`;
  return credential.type === "entra_refresh_token" ? `${graph} offline_access` : graph;
}
