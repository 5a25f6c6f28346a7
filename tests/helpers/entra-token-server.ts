import { constants, createHash, verify, X509Certificate } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

/** An Entra error as the token endpoint sends it (status and AADSTS code). */
export interface EntraFault {
  status: number;
  error: string;
  aadsts: number;
  description: string;
}

/** Faults by name, with the documented shapes: learn.microsoft.com/entra/identity-platform/reference-error-codes. */
export const ENTRA_FAULTS = {
  invalidSecret: {
    status: 401,
    error: "invalid_client",
    aadsts: 7000215,
    description: "Invalid client secret provided.",
  },
  expiredSecret: {
    status: 401,
    error: "invalid_client",
    aadsts: 7000222,
    description: "The provided client secret keys for app are expired.",
  },
  tenantNotFound: { status: 400, error: "invalid_request", aadsts: 90002, description: "Tenant not found." },
  transient: {
    status: 503,
    error: "temporarily_unavailable",
    aadsts: 90033,
    description: "A transient error has occurred.",
  },
  badRefreshToken: {
    status: 400,
    error: "invalid_grant",
    aadsts: 70008,
    description: "The refresh token has expired.",
  },
} as const satisfies Record<string, EntraFault>;

/** A token request as the server saw it. */
export interface SeenTokenRequest {
  tenant: string;
  form: Record<string, string>;
  /** For a client assertion: its header and claims, and whether the signature verified against `certificate`. */
  assertion?: { header: Record<string, unknown>; claims: Record<string, unknown>; isSignatureValid: boolean };
}

/**
 * A minimal Entra token endpoint (`POST /{tenant}/oauth2/v2.0/token`) on 127.0.0.1: issues `at-N` access tokens, rotates
 * refresh tokens `rt-N` (accepting only the latest), verifies PS256 client assertions against `certificate`, and
 * answers the `fault` set at the time, in the Entra error format.
 */
export async function startEntraTokenServer(options: {
  expiresIn?: number;
  certificate?: string;
  initialRefreshToken?: string;
  delayMs?: number;
}) {
  const seen: SeenTokenRequest[] = [];
  const state = {
    fault: undefined as EntraFault | undefined,
    issued: 0,
    refreshToken: options.initialRefreshToken,
    expiresIn: options.expiresIn ?? 3600,
  };
  const server = createServer((req, res) => {
    void readBody(req).then(async (body) => {
      const m = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(req.url ?? "");
      const form = Object.fromEntries(new URLSearchParams(body));
      const request: SeenTokenRequest = { tenant: decodeURIComponent(m?.[1] ?? ""), form };
      const jwt = form["client_assertion"];
      if (jwt !== undefined) request.assertion = inspectAssertion(jwt, options.certificate);
      seen.push(request);
      if (options.delayMs !== undefined) await new Promise((r) => setTimeout(r, options.delayMs));
      const headers = { "content-type": "application/json; charset=utf-8", "x-ms-request-id": `srv-${seen.length}` };
      const fail = (fault: EntraFault) => {
        res.writeHead(fault.status, headers);
        res.end(
          JSON.stringify({
            error: fault.error,
            error_description: `AADSTS${fault.aadsts}: ${fault.description} Trace ID: t Correlation ID: c Timestamp: 2026-01-22 14:05:00Z`,
            error_codes: [fault.aadsts],
            timestamp: "2026-01-22 14:05:00Z",
            trace_id: "00000000-0000-0000-0000-000000000001",
            correlation_id: "00000000-0000-0000-0000-000000000002",
          }),
        );
      };
      if (req.method !== "POST" || m === null) {
        res.writeHead(404).end();
        return;
      }
      if (state.fault !== undefined) return fail(state.fault);
      if (form["grant_type"] === "refresh_token" && form["refresh_token"] !== state.refreshToken) {
        return fail(ENTRA_FAULTS.badRefreshToken);
      }
      if (request.assertion !== undefined && !request.assertion.isSignatureValid)
        return fail(ENTRA_FAULTS.invalidSecret);
      state.issued++;
      const reply: Record<string, unknown> = {
        token_type: "Bearer",
        expires_in: state.expiresIn,
        ext_expires_in: state.expiresIn,
        access_token: `at-${state.issued}`,
      };
      if (form["grant_type"] === "refresh_token") {
        state.refreshToken = `rt-${state.issued}`;
        reply["refresh_token"] = state.refreshToken;
      }
      res.writeHead(200, headers);
      res.end(JSON.stringify(reply));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    authority: `http://127.0.0.1:${port}`,
    seen,
    state,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
  });
}

function inspectAssertion(jwt: string, certificate: string | undefined): NonNullable<SeenTokenRequest["assertion"]> {
  const [h = "", c = "", s = ""] = jwt.split(".");
  const decode = (part: string) =>
    JSON.parse(Buffer.from(part, "base64url").toString("utf8")) as Record<string, unknown>;
  const header = decode(h);
  const claims = decode(c);
  let isSignatureValid = false;
  if (certificate !== undefined) {
    const cert = new X509Certificate(certificate);
    const thumbprint = createHash("sha256").update(cert.raw).digest("base64url");
    const key = { key: cert.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
    isSignatureValid =
      header["alg"] === "PS256" &&
      header["x5t#S256"] === thumbprint &&
      verify("sha256", Buffer.from(`${h}.${c}`), key, Buffer.from(s, "base64url"));
  }
  return { header, claims, isSignatureValid };
}
