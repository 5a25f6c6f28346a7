// Bearer-token checks for the simulated Graph endpoints: missing/unknown/expired token → 401
// InvalidAuthenticationToken; missing permission → 403 accessDenied, naming the permissions the API needs.
// https://learn.microsoft.com/graph/errors ; https://learn.microsoft.com/graph/permissions-reference
import type { IssuedToken } from "./core.js";
import { graphError, headerValue, type RouteContext, type SimReply, type SimRequest } from "./http.js";

/** The permissions an API accepts; `application: undefined` means it refuses app-only tokens (with `appOnlyReply`). */
export interface PermissionNeed {
  delegated: readonly string[];
  application?: readonly string[];
  appOnlyReply?: () => SimReply;
}

/** Result of a token check. */
export type AuthResult = { isAllowed: true; token: IssuedToken } | { isAllowed: false; reply: SimReply };

/** Checks the request's bearer token against the tokens the simulated Entra issued and the API's permissions. */
export function authorize(req: SimRequest, ctx: RouteContext, need: PermissionNeed): AuthResult {
  const header = headerValue(req, "authorization") ?? "";
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (match === null) return deny(graphError(401, "InvalidAuthenticationToken", "Access token is empty."));
  const token = ctx.core.tokens.get(match[1] ?? "");
  if (token === undefined) {
    return deny(graphError(401, "InvalidAuthenticationToken", "CompactToken parsing failed with error code: 80049217"));
  }
  const isExpiredByFault = ctx.faults.some((f) => f.type === "expiredToken");
  if (isExpiredByFault || token.expiresAt <= ctx.core.now()) {
    return deny(graphError(401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid."));
  }
  if (token.isAppOnly) {
    if (need.application === undefined) {
      return deny(
        need.appOnlyReply?.() ??
          graphError(403, "accessDenied", "Requested API is not supported in application-only context"),
      );
    }
    if (!need.application.some((p) => token.permissions.includes(p))) {
      return deny(
        graphError(
          403,
          "accessDenied",
          `Missing role permissions on the request. API requires one of '${need.application.join(", ")}'. Roles on the request '${token.permissions.join(", ")}'.`,
        ),
      );
    }
  } else if (!need.delegated.some((p) => token.permissions.includes(p))) {
    return deny(
      graphError(
        403,
        "accessDenied",
        `Missing scope permissions on the request. API requires one of '${need.delegated.join(", ")}'. Scopes on the request '${token.permissions.join(", ")}'.`,
      ),
    );
  }
  return { isAllowed: true, token };
}

function deny(reply: SimReply): AuthResult {
  return { isAllowed: false, reply };
}
