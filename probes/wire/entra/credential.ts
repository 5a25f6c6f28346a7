import type { Credential, CredentialDeps, CredentialFamily } from "../../../src/core/credentials.js";
import { credentialSchema, tokenUrl, type CredentialSettings } from "./credentials-schema.js";
import { staticAuthorization } from "./static-auth.js";
import { EntraTokenProvider } from "./token-provider.js";

/** A header value that prints as `<secret>` everywhere but where it is sent. */
function header(value: string, isFromCache: boolean) {
  return {
    isFromCache,
    reveal: () => value,
    toJSON: () => "<secret>",
    toString: () => "<secret>",
  };
}

/** Only the refresh-token grant signs in as a user; every other type is app-only. */
function isAppOnlyType(type: CredentialSettings["type"]): boolean {
  return type !== "entra_refresh_token";
}

/** An Entra ID sign-in: one token provider (cache, one fetch in flight) shared by the checks that name it. */
function entraCredential(
  name: string,
  settings: Extract<CredentialSettings, { type: `entra_${string}` }>,
  deps: CredentialDeps,
): Credential {
  const provider = new EntraTokenProvider(name, settings, {
    logger: deps.logger,
    proxy: deps.proxyFor(tokenUrl(settings)),
  });
  return {
    name,
    type: settings.type,
    isAppOnly: isAppOnlyType(settings.type),
    async authorization(io, options = {}) {
      const token = await provider.token(io, options);
      return header(`Bearer ${token.token.reveal()}`, token.isFromCache);
    },
    invalidate: () => provider.invalidate(),
  };
}

/** The credential types Microsoft 365, Slack and generic HTTP checks sign in with. */
export const HTTP_CREDENTIALS: CredentialFamily<CredentialSettings> = {
  schema: credentialSchema,
  describe: (settings) => ({ type: settings.type, isAppOnly: isAppOnlyType(settings.type) }),
  create(name, settings, deps): Credential {
    if (settings.type === "bearer" || settings.type === "basic") {
      return {
        name,
        type: settings.type,
        isAppOnly: true,
        // Read from its secret on every use, so a rotated file is picked up without a reload.
        authorization: () => Promise.resolve(header(staticAuthorization(settings), true)),
        invalidate: () => undefined,
      };
    }
    return entraCredential(name, settings, deps);
  },
};
