import type { Classification } from "../taxonomy.js";
import { asText, splitLines } from "./text.js";
import { fromVerdict, positive, unknownResult, type Verdict } from "./verdict.js";

/** SMTP command stages the rules distinguish; anything unrecognised is `other`. */
export type SmtpStage = "banner" | "ehlo" | "starttls" | "auth" | "mail" | "rcpt" | "data" | "other";

const STAGE_NAMES = new Map<string, SmtpStage>([
  ["banner", "banner"],
  ["greeting", "banner"],
  ["connect", "banner"],
  ["connection", "banner"],
  ["ehlo", "ehlo"],
  ["helo", "ehlo"],
  ["lhlo", "ehlo"],
  ["starttls", "starttls"],
  ["tls", "starttls"],
  ["auth", "auth"],
  ["authenticate", "auth"],
  ["login", "auth"],
  ["mail", "mail"],
  ["mail_from", "mail"],
  ["from", "mail"],
  ["rcpt", "rcpt"],
  ["rcpt_to", "rcpt"],
  ["to", "rcpt"],
  ["data", "data"],
  ["bdat", "data"],
  ["body", "data"],
  ["message", "data"],
  ["dot", "data"],
  ["end_of_data", "data"],
]);

/** Normalises a probe's stage name (`RCPT TO`, `rcpt`, `mail-from` …) to a known stage. */
export function smtpStage(stage: unknown): SmtpStage {
  const key = asText(stage)
    .slice(0, 32)
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, "_");
  return STAGE_NAMES.get(key) ?? "other";
}

/** RFC 3463 §2: class 2, 4 or 5; subject and detail of 1–3 digits without leading zeros. */
export const ENHANCED_CODE = /^[245]\.(?:0|[1-9]\d{0,2})\.(?:0|[1-9]\d{0,2})$/;
/** RFC 5321 §4.2: first digit 2–5, second 0–5. */
const REPLY_CODE = /^[2-5][0-5]\d$/;
/** A reply line: code, then SP, `-` (continuation) or end of line. */
const REPLY_LINE = /^[ \t]*(\d{3})(?:[ \t-]+(.*))?$/;
/** A d.d.d token at the start of a line's text (validated against ENHANCED_CODE afterwards). */
const LEADING_ENHANCED = /^(\d{1,3}\.\d{1,3}\.\d{1,3})(?!\d|\.\d)[ \t]*/;
/** A syntactically valid enhanced code anywhere in the text, e.g. qmail's `(#5.7.1)`; not part of an IP or version. */
const ENHANCED_ANYWHERE = /(?<![\d.])([245]\.(?:0|[1-9]\d{0,2})\.(?:0|[1-9]\d{0,2}))(?!\d|\.\d)/g;

/** What the classifier reads from an SMTP reply. */
export interface SmtpReply {
  /** The final line's 3-digit code, if any line had one. */
  readonly basic: string | undefined;
  /** A valid RFC 3463 code, if one was found. */
  readonly enhanced: string | undefined;
  /** The text of all lines, codes stripped, joined with spaces. */
  readonly text: string;
}

/** Parses a (possibly multi-line, possibly malformed) SMTP reply; never throws. */
export function parseSmtpReply(reply: string): SmtpReply {
  const coded: { code: string; rest: string }[] = [];
  const parts: string[] = [];
  for (const line of splitLines(reply)) {
    const m = REPLY_LINE.exec(line);
    if (m?.[1] !== undefined) {
      coded.push({ code: m[1], rest: m[2] ?? "" });
    } else if (line.trim() !== "") {
      parts.push(line.trim());
    }
  }
  const basic = coded.at(-1)?.code;
  let enhanced: string | undefined;
  for (const { code, rest } of coded) {
    const lead = LEADING_ENHANCED.exec(rest);
    if (lead?.[1] !== undefined && ENHANCED_CODE.test(lead[1])) {
      // RFC 2034 §4: every line carries the same code; take the first on a line of the final reply code.
      if (enhanced === undefined && code === basic) enhanced = lead[1];
      parts.push(rest.slice(lead[0].length).trim());
    } else {
      parts.push(rest.trim());
    }
  }
  const text = parts.filter((p) => p !== "").join(" ");
  if (enhanced === undefined && basic !== undefined) {
    // Codes elsewhere in the text (qmail `(#5.7.1)`) count only when their class agrees with the reply code, so that a
    // version number or a stray `2.0.1` cannot pose as one.
    for (const m of text.matchAll(ENHANCED_ANYWHERE)) {
      if (m[1]?.[0] === basic[0]) {
        enhanced = m[1];
        break;
      }
    }
  }
  return { basic, enhanced, text };
}

interface SmtpMatch {
  /** Matched against the reply text (codes stripped). */
  readonly text?: RegExp;
  /** Matched against the enhanced code; fails when there is none. */
  readonly enhanced?: RegExp;
  /** Matched against the 3-digit reply code. */
  readonly basic?: RegExp;
  readonly stage?: readonly SmtpStage[];
}

interface SmtpRule {
  readonly match: SmtpMatch;
  readonly result: Verdict;
}

const NOT_AUTH_STAGES: readonly SmtpStage[] = ["banner", "ehlo", "starttls", "mail", "rcpt", "data", "other"];

/**
 * The SMTP rule table, first match wins. Order is the precedence of error-facts.md §8: documented limit/outage phrases,
 * then reply codes as specific as an enhanced code (RFC 4954 §6), enhanced subject.detail, policy words for replies whose
 * code said nothing specific, the basic reply code, and finally the stage. `retryable` is never taken from a row: it is
 * the reply's first digit (see `classifySmtp`).
 */
export const SMTP_RULES: readonly SmtpRule[] = [
  // 1. Phrases. Size before limits: "message size limit exceeded" is about the message, not a rate.
  {
    match: { text: /message size|size limit|message (?:is )?too (?:big|large)|exceeds (?:fixed )?(?:maximum )?size/i },
    result: { class: "rejected" },
  },
  // EXO 432 4.3.2 concurrency and thread limits, EXO 5.2.0/5.2.2 submission quota, EXO 5.7.508, Gmail 4.2.1/4.7.28,
  // Postfix anvil ("too many connections from", "too much mail from"), Yahoo TSS04, Exchange 4.4.2 submission rate.
  {
    match: {
      text: /concurrent connections limit|thread limit exceeded|too many (?:concurrent |simultaneous )?(?:smtp )?connections|too many (?:login|authentication) (?:attempts|failures)|rate[ -]limit|submission rate|submissionquotaexceeded|submission quota|sending (?:quota|limit)|receiving mail (?:too quickly|at a rate)|too much mail|too many (?:messages|recipients) from|unexpected volume|exceeded (?:the )?(?:configured |permitted |daily |hourly )?limit|limit exceeded|daily limit|try again later, closing connection/i,
    },
    result: { class: "throttled" },
  },
  // Outages: EXO ATTR55 / 22 Jan "temporary server issue", Gmail "Temporary System Problem", Exim "Temporary local
  // problem", RFC 4954 "Temporary authentication failure", Exchange "not accepting network messages", back pressure.
  {
    match: {
      text: /temporary (?:server|system|local) (?:error|issue|problem|failure)|temporary authentication failure|not accepting network messages|system (?:is )?not accepting messages|insufficient system (?:resources|storage)|temporarily (?:unavailable|suspended)/i,
    },
    result: { class: "unavailable" },
  },
  { match: { text: /tls not available/i }, result: { class: "tls", side: "provider" } },
  {
    match: { text: /must issue a starttls|starttls (?:is )?required|\btls (?:is )?required|encryption required/i },
    result: { class: "tls" },
  },
  // EXO "530 5.7.1 Client was not authenticated" (auth despite 5.7.1), 5.7.57, 5.7.139, 5.7.30; Gmail 534 5.7.9/5.7.14.
  {
    match: {
      text: /client (?:was )?not authenticated|authentication (?:is )?required|authentication unsuccessful|authentication credentials invalid|incorrect authentication data|username and password not accepted|basic authentication is not supported|smtpclientauthentication is disabled|application-specific password required|log in via your web browser/i,
    },
    result: { class: "auth" },
  },
  {
    match: { text: /send ?as ?denied|not allowed to send as|permissions? to send as/i },
    result: { class: "permission" },
  },
  // EXO 5.4.1 / 5.7.504 "Recipient address rejected: Access denied" = the recipient does not exist (DBEB).
  {
    match: {
      stage: NOT_AUTH_STAGES,
      text: /recipient address rejected: access denied|user unknown|unknown user|no such user|user not found|recipient ?not ?found|mailbox not found|doesn't have an? [\w.-]+ account|(?:account|address|mailbox|user)(?: that you tried to reach)? (?:does not|doesn't) exist/i,
    },
    result: { class: "not_found" },
  },
  // Exim "554 SMTP synchronization error" (we spoke out of turn), Gmail "451 4.5.0 SMTP protocol violation".
  { match: { text: /synchroni[sz]ation error|protocol violation/i }, result: { class: "protocol" } },
  // EXO 5.4.1 / 5.7.64 "Relay Access Denied", Postfix "Relay access denied", Exim "relay not permitted".
  {
    match: { text: /relay(?:ing)? (?:access )?(?:denied|not permitted|prohibited)|unable to relay/i },
    result: { class: "rejected" },
  },

  // 2. Reply codes defined only for AUTH/STARTTLS (RFC 4954 §6, RFC 3207 §4): as specific as an enhanced code.
  { match: { basic: /^53[045]$/ }, result: { class: "auth" } },
  { match: { basic: /^538$/ }, result: { class: "tls" } },
  { match: { basic: /^454$/, enhanced: /^4\.7\.0$/ }, result: { class: "unavailable" } },
  // RFC 4954 §6: at AUTH, 4.7.0 is "Temporary authentication failure" whatever the 4xx code, and 5.7.0 (the X.7
  // catch-all of RFC 3463 §3.8) answers the identity, not a delivery policy.
  { match: { basic: /^4\d\d$/, enhanced: /^4\.7\.0$/, stage: ["auth"] }, result: { class: "unavailable" } },
  { match: { basic: /^5\d\d$/, enhanced: /^5\.7\.0$/, stage: ["auth"] }, result: { class: "auth" } },

  // 3. Enhanced subject.detail. EXO 4.7.500-699 / 4.7.850-899 IP throttling, X.7.28 mail flood, EXO 5.1.90, 5.2.121/122.
  { match: { enhanced: /^4\.7\.(?:[56]\d\d|8[5-9]\d)$/ }, result: { class: "throttled" } },
  { match: { enhanced: /^(?:[45]\.7\.28|5\.1\.90|[45]\.2\.12[12]|5\.7\.508)$/ }, result: { class: "throttled" } },
  // RFC 4954 / RFC 5248 / EXO authentication codes. X.7.30 is REQUIRETLS in the IANA registry but EXO's "Basic
  // authentication is not supported for Client Submission"; a submission prober meets the latter.
  { match: { enhanced: /^(?:[45]\.7\.(?:8|9|13|14|30|57|139)|4\.7\.12)$/ }, result: { class: "auth" } },
  { match: { enhanced: /^[45]\.7\.(?:10|11|66)$/ }, result: { class: "tls" } },
  // EXO 5.7.12 / 5.7.124 / 5.7.133-136: the recipient accepts only some senders; 5.7.60 send-as.
  { match: { enhanced: /^5\.7\.(?:12|60|124|133|134|135|136)$/ }, result: { class: "permission" } },
  { match: { enhanced: /^5\.7\.50[45]$/ }, result: { class: "not_found" } },
  // RFC 3463 §3.8 X.7.1 "Delivery not authorized": the sender (already identified) may not send there.
  {
    match: { enhanced: /^[45]\.7\.1$/, text: /delivery not authori[sz]ed|not authori[sz]ed to send/i },
    result: { class: "permission" },
  },
  { match: { enhanced: /^[45]\.7\.\d{1,3}$/ }, result: { class: "rejected" } },
  // X.1.7/X.1.8 are about our sender (EXO 5.1.8 "bad outbound sender" is a block); X.1.0 says nothing.
  { match: { enhanced: /^[45]\.1\.[78]$/ }, result: { class: "rejected" } },
  { match: { enhanced: /^[45]\.1\.[1-9]\d{0,2}$/ }, result: { class: "not_found" } },
  { match: { enhanced: /^[45]\.2\.2$/ }, result: { class: "quota" } },
  // RFC 3463 §3.3 X.2.1 "Mailbox disabled": the mailbox exists but refuses mail — for now (4) or for good (5).
  { match: { basic: /^4\d\d$/, enhanced: /^[45]\.2\.1$/ }, result: { class: "unavailable" } },
  { match: { enhanced: /^[45]\.2\.1$/ }, result: { class: "rejected" } },
  { match: { enhanced: /^[45]\.2\.[1-9]\d{0,2}$/ }, result: { class: "rejected" } },
  { match: { enhanced: /^[45]\.3\.4$/ }, result: { class: "rejected" } },
  { match: { enhanced: /^[45]\.3\.3$/ }, result: { class: "protocol" } },
  { match: { enhanced: /^[45]\.3\.5$/ }, result: { class: "server_error" } },
  // RFC 3463 §3.4: X.3.1 (system full) and X.3.2 (not accepting messages: shutdown, load, maintenance) are states the
  // provider comes out of. Any other X.3 with a permanent reply is the mail system failing for good: server_error.
  { match: { enhanced: /^[45]\.3\.[12]$/ }, result: { class: "unavailable" } },
  { match: { basic: /^5\d\d$/, enhanced: /^[45]\.3\.\d{1,3}$/ }, result: { class: "server_error" } },
  { match: { enhanced: /^[45]\.3\.\d{1,3}$/ }, result: { class: "unavailable" } },
  { match: { enhanced: /^[45]\.4\.(?:6|14)$/ }, result: { class: "server_error" } },
  { match: { enhanced: /^[45]\.4\.(?:7|300)$/ }, result: { class: "timeout", side: "provider" } },
  // RFC 3463 §3.5 X.4.4 "Unable to route" (e.g. the domain has no MX/A): permanently, the destination does not exist.
  { match: { basic: /^5\d\d$/, enhanced: /^[45]\.4\.4$/ }, result: { class: "not_found" } },
  { match: { enhanced: /^[45]\.4\.\d{1,3}$/ }, result: { class: "unavailable" } },
  { match: { enhanced: /^[45]\.5\.3$/ }, result: { class: "rejected" } },
  // EXO answers an unknown outlook.com/hotmail.com recipient with "550 5.5.0 … mailbox unavailable".
  { match: { enhanced: /^5\.5\.0$/, stage: ["rcpt"], text: /mailbox unavailable/i }, result: { class: "not_found" } },
  { match: { enhanced: /^[45]\.5\.\d{1,3}$/ }, result: { class: "protocol" } },
  { match: { enhanced: /^[45]\.6\.\d{1,3}$/ }, result: { class: "rejected" } },

  // 4. Policy words, for replies whose code said nothing specific (no enhanced code, or X.0.X / X.1.0 / X.5.0).
  {
    match: {
      text: /\bblock(?:ed|list)?\b|black ?list|spamhaus|\bbanned\b|\bspam\b|\bpolicy\b|\bdenied\b|\brejected\b/i,
    },
    result: { class: "rejected" },
  },

  // 5. Basic reply code (RFC 5321 §4.2.2, RFC 4954, RFC 7504).
  { match: { basic: /^432$/ }, result: { class: "auth" } },
  { match: { basic: /^454$/, stage: ["starttls"] }, result: { class: "tls", side: "provider" } },
  { match: { basic: /^4\d\d$/ }, result: { class: "unavailable" } },
  { match: { basic: /^(?:50[0-4]|555)$/ }, result: { class: "protocol" } },
  { match: { basic: /^521$/ }, result: { class: "rejected" } },
  { match: { basic: /^55[16]$/ }, result: { class: "not_found" } },
  { match: { basic: /^552$/ }, result: { class: "quota" } },

  // 6. Stage: 550/553 at RCPT is a missing mailbox; any 5xx at AUTH is an identity problem; the rest is a refusal.
  { match: { basic: /^55[03]$/, stage: ["rcpt"] }, result: { class: "not_found" } },
  { match: { basic: /^5\d\d$/, stage: ["auth"] }, result: { class: "auth" } },
  { match: { basic: /^5\d\d$/ }, result: { class: "rejected" } },
];

function matches(m: SmtpMatch, reply: SmtpReply, stage: SmtpStage): boolean {
  if (m.stage !== undefined && !m.stage.includes(stage)) return false;
  if (m.basic !== undefined && (reply.basic === undefined || !m.basic.test(reply.basic))) return false;
  if (m.enhanced !== undefined && (reply.enhanced === undefined || !m.enhanced.test(reply.enhanced))) return false;
  if (m.text !== undefined && !m.text.test(reply.text)) return false;
  return true;
}

/** Classifies one SMTP reply at a stage. */
export function classifySmtp(input: { stage?: unknown; reply?: unknown }): Classification {
  const raw = asText(input.reply);
  const reply = parseSmtpReply(raw);
  const stage = smtpStage(input.stage);
  if (reply.basic === undefined) {
    // No reply code at all. At the banner something other than SMTP answers (wrong port: our configuration); later in
    // the session the server's own output is malformed (provider).
    if (raw.trim() === "") return unknownResult("none");
    return fromVerdict({ class: "protocol", side: stage === "banner" ? "config" : "provider" }, "other");
  }
  if (!REPLY_CODE.test(reply.basic)) return fromVerdict({ class: "protocol", side: "provider" }, "other");
  const code = reply.enhanced ?? reply.basic;
  if (reply.basic[0] === "2" || reply.basic[0] === "3") return positive(code);
  // Mismatch rule (`550 4.4.7`, `454 5.5.1`): the basic code decides `retryable`. RFC 5321 §4.2.1 makes the first digit
  // drive the client, and RFC 2034 §4 requires the enhanced class to agree with it, so a disagreeing class is the
  // server's defect; the enhanced subject.detail (RFC 3463 §3) may still name the class.
  const retryable = reply.basic[0] === "4";
  for (const rule of SMTP_RULES) {
    if (matches(rule.match, reply, stage)) return fromVerdict(rule.result, code, retryable);
  }
  return fromVerdict({ class: retryable ? "unavailable" : "rejected" }, code, retryable);
}
