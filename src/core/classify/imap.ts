import type { Classification } from "../taxonomy.js";
import { asText, splitLines } from "./text.js";
import { fromVerdict, positive, unknownResult, type Verdict } from "./verdict.js";

/**
 * IMAP response codes the classifier recognises and may report as `code`: RFC 3501/9051 §7.1, RFC 5530 §3, the IANA
 * registry entries a mail prober can meet, and Gmail's WEBALERT. Anything else is reported as `other`.
 */
export const IMAP_CODES = [
  "ALERT",
  "ALREADYEXISTS",
  "APPENDUID",
  "AUTHENTICATIONFAILED",
  "AUTHORIZATIONFAILED",
  "BADCHARSET",
  "CANNOT",
  "CAPABILITY",
  "CLIENTBUG",
  "CLOSED",
  "CONTACTADMIN",
  "COPYUID",
  "CORRUPTION",
  "EXPIRED",
  "EXPUNGEISSUED",
  "HASCHILDREN",
  "INUSE",
  "LIMIT",
  "NONEXISTENT",
  "NOPERM",
  "NOTSAVED",
  "OVERQUOTA",
  "PARSE",
  "PERMANENTFLAGS",
  "PRIVACYREQUIRED",
  "READ-ONLY",
  "READ-WRITE",
  "SERVERBUG",
  "TEMPFAIL",
  "TOOBIG",
  "TRYCREATE",
  "UIDNEXT",
  "UIDNOTSTICKY",
  "UIDVALIDITY",
  "UNAVAILABLE",
  "UNKNOWN-CTE",
  "UNSEEN",
  "WEBALERT",
] as const;

/** One recognised IMAP response code. */
export type ImapCode = (typeof IMAP_CODES)[number];

const KNOWN_CODES: ReadonlySet<string> = new Set(IMAP_CODES);

type ImapStatus = "OK" | "NO" | "BAD" | "BYE" | "PREAUTH";

const STATUS_LINE = /^[ \t]*(?:(\*|[^\s*+]+)[ \t]+)?(OK|NO|BAD|BYE|PREAUTH)(?![A-Za-z0-9])[ \t]*(.*)$/i;
const RESPONSE_CODE = /^\[([A-Za-z0-9.-]{1,64})(?:[ \t][^\]]*)?\][ \t]*/;

interface StatusLine {
  readonly tagged: boolean;
  readonly status: ImapStatus;
  /** Uppercased response code atom, if the line had one. */
  readonly code: string | undefined;
  readonly text: string;
}

/** What the classifier reads from an IMAP response. */
export interface ImapResponse {
  /** The status line that decides: the tagged completion, else a BYE, else an untagged NO/BAD, else an OK. */
  readonly decisive: StatusLine | undefined;
  /** A recognised response code (from the decisive line, else any NO/BAD/BYE line). */
  readonly code: ImapCode | undefined;
  /** True when a bracketed code was present but is not in IMAP_CODES. */
  readonly hasUnknownCode: boolean;
  /** Text of all status lines, codes stripped. */
  readonly text: string;
}

function parseLine(line: string): StatusLine | undefined {
  const m = STATUS_LINE.exec(line);
  if (m?.[2] === undefined) return undefined;
  const rest = m[3] ?? "";
  const c = RESPONSE_CODE.exec(rest);
  return {
    tagged: m[1] !== "*",
    status: m[2].toUpperCase() as ImapStatus,
    code: c?.[1]?.toUpperCase(),
    text: c === null ? rest : rest.slice(c[0].length),
  };
}

function isKnown(code: string | undefined): code is ImapCode {
  return code !== undefined && KNOWN_CODES.has(code);
}

/** Parses an IMAP response (one line or several, tagged or untagged); never throws. */
export function parseImapResponse(response: string): ImapResponse {
  const lines = splitLines(response)
    .map(parseLine)
    .filter((l): l is StatusLine => l !== undefined);
  const tagged = lines.filter((l) => l.tagged);
  const decisive =
    tagged.at(-1) ??
    lines.find((l) => l.status === "BYE") ??
    lines.filter((l) => l.status === "NO" || l.status === "BAD").at(-1) ??
    lines.at(-1);
  const failing = lines.filter((l) => l.status === "NO" || l.status === "BAD" || l.status === "BYE");
  const code = [decisive, ...failing].map((l) => l?.code).find(isKnown);
  return {
    decisive,
    code,
    hasUnknownCode: lines.some((l) => l.code !== undefined && !isKnown(l.code)),
    text: lines.map((l) => l.text.trim()).join(" "),
  };
}

interface ImapMatch {
  readonly status?: readonly ImapStatus[];
  /** Response codes; `none` stands for "no recognised code". */
  readonly code?: readonly (ImapCode | "none")[];
  readonly text?: RegExp;
  readonly stage?: readonly string[];
}

interface ImapRule {
  readonly match: ImapMatch;
  readonly result: Verdict;
}

const LIMIT_CARRIERS: readonly (ImapCode | "none")[] = ["OVERQUOTA", "UNAVAILABLE", "LIMIT", "ALERT", "INUSE", "none"];
const AUTH_STAGES = ["login", "auth", "authenticate"];
/** Commands only an authenticated session sends (RFC 9051 §6.3–6.4). */
const POST_AUTH_STAGES = [
  "select",
  "examine",
  "status",
  "create",
  "delete",
  "rename",
  "list",
  "append",
  "fetch",
  "search",
  "store",
  "copy",
  "move",
  "expunge",
  "idle",
];

/**
 * The IMAP rule table, first match wins: limit phrases on codes servers abuse for rate limits (Gmail OVERQUOTA
 * "bandwidth limits", Dovecot UNAVAILABLE "Maximum number of connections"), then RFC 5530 / RFC 3501 response codes,
 * then a bare BYE, then phrases for code-less replies, then the stage.
 */
export const IMAP_RULES: readonly ImapRule[] = [
  {
    match: {
      code: LIMIT_CARRIERS,
      text: /bandwidth|too many (?:simultaneous |concurrent )?(?:connections|sessions|commands|requests|login attempts)|maximum number of connections|connection limit|rate limit|throttl/i,
    },
    result: { class: "throttled" },
  },
  // RFC 5530 §3 CONTACTADMIN ("contact the system administrator"): at LOGIN the account is refused; after it, the
  // identity was accepted and an action is barred.
  { match: { code: ["CONTACTADMIN"], stage: POST_AUTH_STAGES }, result: { class: "permission" } },
  { match: { code: ["AUTHENTICATIONFAILED", "EXPIRED", "CONTACTADMIN", "WEBALERT"] }, result: { class: "auth" } },
  { match: { code: ["AUTHORIZATIONFAILED", "NOPERM", "READ-ONLY"] }, result: { class: "permission" } },
  { match: { code: ["PRIVACYREQUIRED"] }, result: { class: "tls" } },
  { match: { code: ["UNAVAILABLE", "INUSE", "EXPUNGEISSUED", "TEMPFAIL"] }, result: { class: "unavailable" } },
  { match: { code: ["SERVERBUG", "CORRUPTION", "NOTSAVED"] }, result: { class: "server_error" } },
  { match: { code: ["CLIENTBUG", "BADCHARSET"] }, result: { class: "protocol" } },
  { match: { code: ["PARSE", "UNKNOWN-CTE"] }, result: { class: "protocol", side: "provider" } },
  { match: { code: ["CANNOT", "LIMIT", "ALREADYEXISTS", "TOOBIG"] }, result: { class: "rejected" } },
  { match: { code: ["OVERQUOTA"] }, result: { class: "quota" } },
  { match: { code: ["NONEXISTENT", "TRYCREATE"] }, result: { class: "not_found" } },
  // RFC 9051 §7.1.5: BYE — the server is closing the connection (shutdown, idle logout, overload).
  { match: { status: ["BYE"] }, result: { class: "unavailable" } },
  { match: { status: ["BAD"] }, result: { class: "protocol" } },
  {
    match: {
      text: /authenticat\w* failed|invalid credentials|login failed|authentication unsuccessful|application-specific password|web login required|log ?in via your web browser|invalid (?:user ?name|login|password)/i,
    },
    result: { class: "auth" },
  },
  {
    match: {
      text: /(?:mailbox|folder) (?:does not|doesn't) exist|no such (?:mailbox|folder)|unknown mailbox|mailbox not found/i,
    },
    result: { class: "not_found" },
  },
  { match: { text: /try again|temporar/i }, result: { class: "unavailable" } },
  { match: { text: /internal (?:server )?error/i }, result: { class: "server_error" } },
  { match: { stage: AUTH_STAGES }, result: { class: "auth" } },
  { match: { stage: ["select", "examine", "status"] }, result: { class: "not_found" } },
];

function matches(m: ImapMatch, response: ImapResponse, status: ImapStatus, stage: string): boolean {
  if (m.status !== undefined && !m.status.includes(status)) return false;
  if (m.code !== undefined && !m.code.includes(response.code ?? "none")) return false;
  if (m.stage !== undefined && !m.stage.includes(stage)) return false;
  if (m.text !== undefined && !m.text.test(response.text)) return false;
  return true;
}

/** Classifies one IMAP response, optionally at a command stage (`login`, `select`, `append` …). */
export function classifyImap(input: { response?: unknown; stage?: unknown }): Classification {
  const raw = asText(input.response);
  const response = parseImapResponse(raw);
  const code = response.code ?? (response.hasUnknownCode ? "other" : "none");
  const status = response.decisive?.status;
  if (status === undefined) {
    return raw.trim() === "" ? unknownResult("none") : fromVerdict({ class: "protocol", side: "provider" }, "other");
  }
  if (status === "OK" || status === "PREAUTH") return positive(code);
  const stage = asText(input.stage).slice(0, 32).trim().toLowerCase();
  for (const rule of IMAP_RULES) {
    if (matches(rule.match, response, status, stage)) return fromVerdict(rule.result, code);
  }
  return { ...unknownResult("none"), code };
}
