/**
 * Kind `entra_signin`: one fresh token request for a credential, every run, never from the cache: is sign-in itself
 * working? (In the Asia-Pacific incident it was not; on 22 January 2026 it was, while search and chat failed.) A
 * failure is classified by its AADSTS code: invalid or expired secret, unknown app or tenant, missing consent,
 * Conditional Access, MFA, or a transient directory failure.
 */
import { z } from "zod";
import { defineKind } from "../src/core/probe.js";
import { ProbeError } from "../src/core/probe-error.js";
import { HTTP_CREDENTIALS } from "./wire/entra/credential.js";

const settingsSchema = z.strictObject({
  credential: z.string().min(1).describe("The entra_* entry of `credentials:` to sign in with."),
});

/** The `entra_signin` probe kind. */
export const entraSigninKind = defineKind<z.output<typeof settingsSchema>>({
  id: "entra_signin",
  title: "Microsoft Entra ID sign-in: a fresh token request every run, timed and classified by its AADSTS code",
  settingsSchema,
  isSettingsOptional: false,
  phases: ["auth"],
  facts: [],
  credentials: HTTP_CREDENTIALS,
  credentialOf: (s) => s.credential,
  throttleScope: (s) => `${s.credential}@signin`,
  target: { type: "none", label: (s) => `credential:${s.credential}` },
  async run(ctx) {
    const credential = ctx.credential(ctx.settings.credential);
    if (!credential.type.startsWith("entra_")) {
      throw new ProbeError(`credential "${credential.name}" is ${credential.type}, not an Entra ID sign-in`, {
        phase: "auth",
        facts: { protocol: "probe", input: { class: "config" } },
      });
    }
    await credential.authorization(ctx, { fresh: true });
  },
});
