/**
 * Settings every Microsoft Graph kind shares (`credential`, `graph_url`, TLS), its throttle scope and one call in a
 * kind's own phase after a separately timed sign-in.
 */
import { z } from "zod";
import type { ProbeContext } from "../../../src/core/probe.js";
import { apiRequest, type ApiCall } from "../http/api.js";
import type { HttpResponse } from "../http/client.js";
import { tlsFields, type TlsSettings } from "../transport/tls.js";

/** Fields of every Graph kind's block. */
export const graphFields = {
  credential: z
    .string()
    .min(1)
    .describe("Name of the sign-in under the top-level `credentials:` block (Entra ID app or probe user)."),
  graph_url: z
    .url({ protocol: /^https?$/, message: "must be an http:// or https:// URL" })
    .transform((url) => url.replace(/\/+$/, ""))
    .default("https://graph.microsoft.com")
    .describe(
      "Graph base URL: https://graph.microsoft.com, a national cloud's (graph.microsoft.us), a proxy or a simulator.",
    ),
  ...tlsFields,
};

/** The parsed shape of `graphFields`. */
export interface GraphSettings extends TlsSettings {
  credential: string;
  graph_url: string;
}

/** Checks of one app against one Graph host share a throttle budget, so a 429 holds them all. */
export function graphThrottleScope(settings: GraphSettings): string {
  return `${settings.credential}@${new URL(settings.graph_url).host}`;
}

/** The host of the Graph URL: the `target` label. */
export function graphTarget(settings: GraphSettings): string {
  return new URL(settings.graph_url).host;
}

/** TLS options of the block as the HTTP client takes them. */
export function tlsOf(settings: GraphSettings): TlsSettings {
  const { servername, ca_file, insecure_skip_verify, cert_file, key_file } = settings;
  return { servername, ca_file, insecure_skip_verify, cert_file, key_file };
}

/**
 * One Graph call timed as the kind's phase `step`; sign-in is timed first as its own phase `auth` (a cached token
 * costs nothing), so a slow Entra is not read as a slow search.
 */
export async function graphCall(
  ctx: ProbeContext<GraphSettings, unknown>,
  step: string,
  call: Omit<ApiCall, "protocol" | "credential" | "step" | "url"> & { path: string },
): Promise<HttpResponse> {
  const credential = ctx.credential(ctx.settings.credential);
  await credential.authorization(ctx);
  const { path, ...rest } = call;
  return apiRequest(ctx, {
    ...rest,
    url: `${ctx.settings.graph_url}${path}`,
    protocol: "graph",
    credential,
    step,
    tls: tlsOf(ctx.settings),
  });
}
