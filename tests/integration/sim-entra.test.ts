import { execFile } from "node:child_process";
import { createHash, createSign, constants, randomUUID, X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { defaultWorld } from "../../lab/sim/index.js";
import { graph, SIM_APP, SIM_TENANT, simulators, tokenRequest } from "../helpers/sim.js";

const start = simulators();
let rsa: { key: string; cert: string; thumbprint: string };
let otherKey: string;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), "sim-rsa-"));
  const openssl = (...args: string[]) => promisify(execFile)("openssl", args, { cwd: dir });
  await openssl(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "k.pem",
    "-out",
    "c.pem",
    "-days",
    "1",
    "-subj",
    "/CN=sim",
  );
  await openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "other.pem");
  const cert = readFileSync(join(dir, "c.pem"), "utf8");
  rsa = {
    key: readFileSync(join(dir, "k.pem"), "utf8"),
    cert,
    thumbprint: createHash("sha256").update(new X509Certificate(cert).raw).digest("base64url"),
  };
  otherKey = readFileSync(join(dir, "other.pem"), "utf8");
  rmSync(dir, { recursive: true, force: true });
});

const CERT_APP = "22222222-2222-4222-8222-222222222222";

function certWorld() {
  const world = defaultWorld();
  world.apps.push({ clientId: CERT_APP, certificate: rsa.cert, roles: ["Files.Read.All"], delegatedScopes: [] });
  return world;
}

/** A client assertion as the Entra docs describe it; `overrides` bend one claim or the signing key at a time. */
function assertion(
  aud: string,
  overrides: { claims?: Record<string, unknown>; key?: string; alg?: "PS256" | "RS256"; x5t?: string } = {},
): string {
  const now = Math.floor(Date.now() / 1000);
  const alg = overrides.alg ?? "PS256";
  const header = { alg, typ: "JWT", "x5t#S256": overrides.x5t ?? rsa.thumbprint };
  const claims = {
    aud,
    iss: CERT_APP,
    sub: CERT_APP,
    jti: randomUUID(),
    nbf: now,
    iat: now,
    exp: now + 300,
    ...overrides.claims,
  };
  const data = `${Buffer.from(JSON.stringify(header)).toString("base64url")}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}`;
  const signer = createSign("sha256").update(data);
  const key = overrides.key ?? rsa.key;
  const signature =
    alg === "PS256" ? signer.sign({ key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }) : signer.sign(key);
  return `${data}.${signature.toString("base64url")}`;
}

async function withAssertion(aud: string | undefined, jwt: (aud: string) => string) {
  const sim = await start({ world: certWorld() });
  const endpoint = aud ?? `${sim.url}/${SIM_TENANT}/oauth2/v2.0/token`;
  const res = await tokenRequest(sim, {
    grant_type: "client_credentials",
    client_id: CERT_APP,
    client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    client_assertion: jwt(endpoint),
    scope: "https://graph.microsoft.com/.default",
  });
  return { res, body: (await res.json()) as Record<string, unknown> };
}

describe("sim: Entra token endpoint", () => {
  it("issues an app-only token for the right client secret, in the documented shape", async () => {
    const sim = await start();
    const res = await tokenRequest(sim, {
      grant_type: "client_credentials",
      client_id: SIM_APP.clientId,
      client_secret: SIM_APP.secret,
      scope: "https://graph.microsoft.com/.default",
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ token_type: "Bearer", expires_in: 3599 });
    expect(typeof body["access_token"]).toBe("string");
    expect(body["refresh_token"]).toBeUndefined();
    expect(sim.count("entra.token")).toBe(1);
  });

  it.each([
    ["wrong secret", { client_secret: "nope" }, 401, "invalid_client", 7000215],
    ["unknown app", { client_id: "99999999-9999-4999-8999-999999999999" }, 400, "unauthorized_client", 700016],
    ["scope without /.default", { scope: "Files.Read.All" }, 400, "invalid_scope", 1002012],
  ])("%s → %i %s AADSTS%i", async (_name, change, status, error, code) => {
    const sim = await start();
    const res = await tokenRequest(sim, {
      grant_type: "client_credentials",
      client_id: SIM_APP.clientId,
      client_secret: SIM_APP.secret,
      scope: "https://graph.microsoft.com/.default",
      ...change,
    });
    expect(res.status).toBe(status);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ error, error_codes: [code] });
    expect(String(body["error_description"])).toMatch(new RegExp(`^AADSTS${code}: `));
    for (const field of ["timestamp", "trace_id", "correlation_id"]) expect(typeof body[field]).toBe("string");
  });

  it("expired secret → 401 AADSTS7000222; unknown tenant → 400 AADSTS90002", async () => {
    const world = defaultWorld();
    world.apps[0]!.secretExpiresAt = Date.now() - 1000;
    const sim = await start({ world });
    const form = {
      grant_type: "client_credentials",
      client_id: SIM_APP.clientId,
      client_secret: SIM_APP.secret,
      scope: "https://graph.microsoft.com/.default",
    };
    const expired = await tokenRequest(sim, form);
    expect(expired.status).toBe(401);
    expect(await expired.json()).toMatchObject({ error: "invalid_client", error_codes: [7000222] });
    const tenant = await tokenRequest(sim, form, "nosuch.onmicrosoft.com");
    expect(tenant.status).toBe(400);
    expect(await tenant.json()).toMatchObject({ error: "invalid_request", error_codes: [90002] });
  });

  it.each([
    [65001, 400, "invalid_grant"],
    [53003, 400, "invalid_grant"],
    [50076, 400, "invalid_grant"],
    [90033, 503, "temporarily_unavailable"],
  ])("aadsts fault %i → %i %s", async (code, status, error) => {
    const sim = await start();
    sim.setFault("entra.token", { type: "aadsts", code });
    const res = await tokenRequest(sim, { grant_type: "client_credentials" });
    expect(res.status).toBe(status);
    expect(await res.json()).toMatchObject({ error, error_codes: [code] });
  });

  it("accepts a PS256 client assertion signed by the registered certificate, and RS256 too", async () => {
    const ps = await withAssertion(undefined, (aud) => assertion(aud));
    expect(ps.res.status).toBe(200);
    expect(ps.body["token_type"]).toBe("Bearer");
    const rs = await withAssertion(undefined, (aud) => assertion(aud, { alg: "RS256" }));
    expect(rs.res.status).toBe(200);
  });

  it.each([
    ["a signature by another key", (aud: string) => assertion(aud, { key: otherKey }), 700027],
    ["a wrong x5t#S256", (aud: string) => assertion(aud, { x5t: "AAAA" }), 700027],
    ["a wrong audience", (aud: string) => assertion(aud.replace("/token", "/authorize")), 700023],
    [
      "an expired assertion",
      (aud: string) => assertion(aud, { claims: { exp: Math.floor(Date.now() / 1000) - 10 } }),
      700024,
    ],
    ["iss ≠ client_id", (aud: string) => assertion(aud, { claims: { iss: "someone-else" } }), 700021],
  ])("rejects %s with 401 invalid_client AADSTS%i", async (_name, jwt, code) => {
    const { res, body } = await withAssertion(undefined, jwt);
    expect(res.status).toBe(401);
    expect(body).toMatchObject({ error: "invalid_client", error_codes: [code] });
  });

  it("rotates refresh tokens: the new one works, the spent one is refused with invalid_grant", async () => {
    const sim = await start();
    const refresh = (token: string) =>
      tokenRequest(sim, {
        grant_type: "refresh_token",
        client_id: SIM_APP.clientId,
        refresh_token: token,
        scope: "ChatMessage.Send offline_access",
      });
    const first = await refresh("sim-refresh-0");
    expect(first.status).toBe(200);
    const body = (await first.json()) as Record<string, string>;
    expect(body["refresh_token"]).toMatch(/^sim-rt-/);
    expect(body["scope"]).toBe("ChatMessage.Send offline_access");
    const reused = await refresh("sim-refresh-0");
    expect(reused.status).toBe(400);
    expect(await reused.json()).toMatchObject({ error: "invalid_grant", error_codes: [70000] });
    const next = await refresh(body["refresh_token"]!);
    expect(next.status).toBe(200);
  });

  it("Graph refuses missing, unknown and expired tokens with 401 InvalidAuthenticationToken", async () => {
    let now = Date.now();
    const sim = await start({ now: () => now });
    const res = await tokenRequest(sim, {
      grant_type: "client_credentials",
      client_id: SIM_APP.clientId,
      client_secret: SIM_APP.secret,
      scope: "https://graph.microsoft.com/.default",
    });
    const token = ((await res.json()) as { access_token: string }).access_token;
    const path = "/v1.0/admin/serviceAnnouncement/healthOverviews";
    expect((await graph(sim, token, "GET", path)).status).toBe(200);
    const none = await fetch(`${sim.url}${path}`);
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ error: { code: "InvalidAuthenticationToken" } });
    expect((await graph(sim, "made-up", "GET", path)).status).toBe(401);
    now += 3600_000;
    const expired = await graph(sim, token, "GET", path);
    expect(expired.status).toBe(401);
    expect(await expired.json()).toMatchObject({
      error: { code: "InvalidAuthenticationToken", message: "Access token has expired or is not yet valid." },
    });
  });
});
