import { defineKind } from "../src/core/probe.js";
import { ProbeError } from "../src/core/probe-error.js";
import { runSmtpSession, SMTP_REPLY_CODE_FACT } from "./wire/smtp/session.js";
import { CERT_EXPIRY_FACT } from "./wire/transport/tls.js";
import { SMTP_PHASES, smtpDefaultPort, smtpSettingsSchema, type SmtpSettings } from "./wire/smtp/settings.js";

/** The `smtp` kind: a front-door check of a mail submission or relay server. */
export const smtpKind = defineKind<SmtpSettings>({
  id: "smtp",
  title: "SMTP session: greeting, EHLO, STARTTLS or implicit TLS, AUTH, optionally MAIL/RCPT/DATA",
  settingsSchema: smtpSettingsSchema,
  isSettingsOptional: true,
  phases: SMTP_PHASES,
  facts: [SMTP_REPLY_CODE_FACT, CERT_EXPIRY_FACT],
  target: { type: "socket", defaultPort: smtpDefaultPort },
  async run(ctx) {
    if (ctx.target.type !== "socket") {
      throw new ProbeError("smtp needs a host:port target", {
        facts: { protocol: "probe", input: { class: "config" } },
      });
    }
    const { settings, signal, phases, facts, logger } = ctx;
    facts.set(SMTP_REPLY_CODE_FACT, 0); // "no reply seen" until one arrives: a refused connection must not keep the old code
    await runSmtpSession({ settings, host: ctx.target.host, port: ctx.target.port, signal, phases, facts, logger });
  },
});
