import { ERROR_CLASSES, SIDES, type Classification, type ClassifyInput } from "../taxonomy.js";
import { isBoundedCode } from "./codes.js";
import { classifyHttp } from "./http.js";
import { classifyImap } from "./imap.js";
import { classifyNet } from "./net.js";
import { classifySmtp } from "./smtp.js";
import { asText, isRecord, prop } from "./text.js";
import { fromVerdict, unknownResult, type Verdict } from "./verdict.js";

/** Failures a probe decided itself, mapped straight through (error-facts.md §8). */
const PROBE_CLASSES = new Map<string, Verdict>([
  ["assertion", { class: "assertion", retryable: false, side: "provider" }],
  ["delivery", { class: "delivery", retryable: true, side: "provider" }],
  ["config", { class: "config", retryable: false, side: "config" }],
  ["timeout", { class: "timeout", retryable: true, side: "network" }],
  ["protocol", { class: "protocol", retryable: false, side: "provider" }],
  // The probe held itself back to stay within a provider's documented rate budget (e.g. Slack's history limit).
  ["throttled", { class: "throttled", retryable: true, side: "provider" }],
]);

function classifyProbe(facts: Record<string, unknown>): Classification {
  const verdict = PROBE_CLASSES.get(asText(prop(facts, "class")));
  const given = prop(facts, "code");
  const code = given === undefined ? "none" : isBoundedCode(asText(given)) ? asText(given) : "other";
  return verdict === undefined ? { ...unknownResult("none"), code } : fromVerdict(verdict, code);
}

function dispatch(input: unknown): Classification {
  const protocol = prop(input, "protocol");
  const facts = prop(input, "input");
  if (!isRecord(facts)) return unknownResult("none");
  switch (protocol) {
    case "smtp":
      return classifySmtp({ stage: prop(facts, "stage"), reply: prop(facts, "reply") });
    case "imap":
      return classifyImap({ response: prop(facts, "response"), stage: prop(facts, "stage") });
    case "http":
    case "graph":
    case "slack":
    case "entra":
      return classifyHttp(protocol, {
        status: prop(facts, "status"),
        headers: prop(facts, "headers"),
        body: prop(facts, "body"),
      });
    case "net":
    case "tls":
      return classifyNet(protocol, { code: prop(facts, "code"), message: prop(facts, "message") });
    case "probe":
      return classifyProbe(facts);
    default:
      return unknownResult("none");
  }
}

const CLASSES: ReadonlySet<string> = new Set<string>([...ERROR_CLASSES, "ok"]);
const SIDE_VALUES: ReadonlySet<string> = new Set<string>([...SIDES, "none"]);

/** Guarantees the output contract even if a rule table were edited wrongly: bounded code, known class and side. */
function sanitize(result: Classification): Classification {
  if (!CLASSES.has(result.class) || !SIDE_VALUES.has(result.side) || typeof result.retryable !== "boolean") {
    return unknownResult("other");
  }
  return isBoundedCode(result.code) ? result : { ...result, code: "other" };
}

/** Classifies structured failure facts. Pure and synchronous; never throws, whatever it is given. */
export function classify(input: ClassifyInput): Classification {
  try {
    return sanitize(dispatch(input));
  } catch {
    return unknownResult("none");
  }
}
