import { Writable } from "node:stream";
import { pino, type Logger } from "pino";

const b64 = (text: string): string => Buffer.from(text, "utf8").toString("base64");

/**
 * Every form in which the agent could leak `secret` (sent by `user`): raw, base64 of it and of the SASL PLAIN,
 * LOGIN and XOAUTH2 payloads, IMAP/SMTP-quoted, JSON-escaped (and JSON-escaped twice, as a log line inside JSON),
 * URL-encoded. Plus every 10-character window of the raw secret and of each base64 payload, so that a partial or
 * line-split echo is caught too.
 */
export function sentinelForms(secret: string, user: string): string[] {
  const quoted = secret.replace(/[\\"]/g, "\\$&");
  const json = JSON.stringify(secret).slice(1, -1);
  const payloads = [b64(secret), b64(`\0${user}\0${secret}`), b64(`user=${user}\x01auth=Bearer ${secret}\x01\x01`)];
  const forms = new Set<string>([
    secret,
    ...payloads,
    quoted,
    json,
    JSON.stringify(json).slice(1, -1),
    JSON.stringify(quoted).slice(1, -1),
    encodeURIComponent(secret),
  ]);
  for (const text of [secret, ...payloads.map((p) => p.replace(/=+$/, ""))]) {
    for (let i = 0; i + 10 <= text.length; i++) forms.add(text.slice(i, i + 10));
  }
  return [...forms];
}

/** The forms of `secrets` found in `text` (empty when clean), each with some context for the failure message. */
export function leaksIn(text: string, secrets: readonly { secret: string; user: string }[]): string[] {
  const found: string[] = [];
  for (const { secret, user } of secrets) {
    for (const form of sentinelForms(secret, user)) {
      const at = text.indexOf(form);
      if (at !== -1)
        found.push(`${JSON.stringify(form)} in …${text.slice(Math.max(0, at - 60), at + form.length + 20)}…`);
    }
  }
  return found;
}

/** A pino logger at debug level whose lines are collected in `lines`. */
export function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: pino({ level: "trace" }, stream), lines };
}
