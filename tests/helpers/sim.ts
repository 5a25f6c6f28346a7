import { startSimulator, type Simulator, type SimulatorOptions } from "../../lab/sim/index.js";
import { closeAfterEach } from "./lifecycle.js";

/** The seeded app of `defaultWorld()`. */
export const SIM_APP = { clientId: "11111111-1111-4111-8111-111111111111", secret: "sim-secret-value" } as const;
export const SIM_TENANT = "contoso.onmicrosoft.com";

/** Registers an afterEach in the calling file and returns a starter for simulators it will close. */
export function simulators(): (options?: SimulatorOptions) => Promise<Simulator> {
  const keep = closeAfterEach();
  return async (options) => keep(await startSimulator(options));
}

/** POSTs a form to the sim's token endpoint. */
export function tokenRequest(sim: Simulator, form: Record<string, string>, tenant = SIM_TENANT): Promise<Response> {
  return fetch(`${sim.url}/${tenant}/oauth2/v2.0/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form).toString(),
  });
}

/** An app-only access token of the seeded app (client secret). */
export async function appToken(sim: Simulator): Promise<string> {
  const res = await tokenRequest(sim, {
    grant_type: "client_credentials",
    client_id: SIM_APP.clientId,
    client_secret: SIM_APP.secret,
    scope: "https://graph.microsoft.com/.default",
  });
  const body = (await res.json()) as { access_token: string };
  return body.access_token;
}

/** A delegated access token for the probe user through the seeded refresh token (rotates it). */
export async function delegatedToken(sim: Simulator, refreshToken = "sim-refresh-0"): Promise<string> {
  const res = await tokenRequest(sim, {
    grant_type: "refresh_token",
    client_id: SIM_APP.clientId,
    refresh_token: refreshToken,
    scope: "ChatMessage.Send Chat.ReadWrite offline_access",
  });
  const body = (await res.json()) as { access_token: string };
  return body.access_token;
}

/** fetch with a bearer token and an optional JSON body. */
export function graph(sim: Simulator, token: string, method: string, path: string, body?: unknown): Promise<Response> {
  const init: RequestInit = { method, headers: { authorization: `Bearer ${token}` } };
  if (body !== undefined) {
    init.headers = { ...init.headers, "content-type": "application/json" };
    init.body = JSON.stringify(body);
  }
  return fetch(`${sim.url}${path}`, init);
}
