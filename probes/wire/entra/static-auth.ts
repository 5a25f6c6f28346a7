import type { CredentialSettings } from "./credentials-schema.js";

/** A `bearer` or `basic` credential. */
export type StaticCredentialSettings = Extract<CredentialSettings, { type: "bearer" | "basic" }>;

/** The Authorization header value of a bearer/basic credential, read from its secret now (never logged). */
export function staticAuthorization(credential: StaticCredentialSettings): string {
  if (credential.type === "bearer") return `Bearer ${credential.token.reveal()}`;
  const pair = `${credential.username}:${credential.password.reveal()}`;
  return `Basic ${Buffer.from(pair, "utf8").toString("base64")}`;
}
