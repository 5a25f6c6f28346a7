import { ProbeError } from "../probe-error.js";
import type { Classification, ClassifyInput } from "../taxonomy.js";
import { classify } from "./dispatch.js";
import { KNOWN_NET_CODES, classifyNet } from "./net.js";
import { inheritedProp, isRecord, prop } from "./text.js";
import { fromVerdict, unknownResult } from "./verdict.js";

/** How deep the `cause` chain is followed. */
const MAX_DEPTH = 8;
/** How many errors are looked at in all (AggregateError fans out). */
const MAX_NODES = 64;
/** Names of errors that mean a deadline passed (AbortSignal.timeout(), AbortController.abort() at the deadline). */
const TIMEOUT_NAMES: ReadonlySet<string> = new Set(["AbortError", "TimeoutError"]);
/**
 * undici errors that carry a whole HTTP response (`statusCode`, `headers`, `body`): the responseError interceptor's
 * ResponseError, the retry handler's RequestRetryError once retries are spent, and undici ≤ 6's ResponseStatusCodeError.
 * The response says more than the wrapper, so they are classified as HTTP.
 */
const HTTP_RESPONSE_CODES: ReadonlySet<string> = new Set([
  "UND_ERR_RESPONSE",
  "UND_ERR_REQ_RETRY",
  "UND_ERR_RESPONSE_STATUS_CODE",
]);
/** Wrappers whose own verdict is only a fallback: the proxy errors carry the real TLS or socket error as `cause`. */
const WRAPPER_CODES: ReadonlySet<string> = new Set(["UND_ERR_PRX_TLS", "UND_ERR_PRX_CONN"]);
/** Fixed messages of code-less errors undici's fetch produces (lib/web/fetch/index.js); exact, lowercase. */
const FIXED_MESSAGES: ReadonlySet<string> = new Set(["redirect count exceeded"]);

function httpResponseFacts(node: object, code: unknown): ClassifyInput | undefined {
  if (typeof code !== "string" || !HTTP_RESPONSE_CODES.has(code)) return undefined;
  const status = inheritedProp(node, "statusCode");
  // RequestRetryError also reports resumed-download mismatches with a 2xx status: those are not HTTP failures.
  if (typeof status !== "number" || !Number.isInteger(status) || status < 300 || status > 599) return undefined;
  const headers = inheritedProp(node, "headers");
  const body = inheritedProp(node, "body");
  return {
    protocol: "http",
    input: {
      status,
      ...(isRecord(headers) ? { headers: headers as Record<string, string> } : {}),
      ...(body === undefined ? {} : { body }),
    },
  };
}

function probeFacts(node: object): ClassifyInput | undefined {
  if (node instanceof ProbeError) return node.facts;
  // A ProbeError from another copy of this module (bundling, realms) still counts.
  if (inheritedProp(node, "name") !== "ProbeError") return undefined;
  const facts = prop(node, "facts");
  return isRecord(facts) ? (facts as unknown as ClassifyInput) : undefined;
}

/** What one error in the chain says, if anything. */
function classifyNode(node: object): Classification | undefined {
  const facts = probeFacts(node);
  if (facts !== undefined) return classify(facts);
  const code = inheritedProp(node, "code");
  const response = httpResponseFacts(node, code);
  if (response !== undefined) return classify(response);
  const message = inheritedProp(node, "message");
  if (typeof code === "string" && KNOWN_NET_CODES.has(code)) return classifyNet("net", { code, message });
  const name = inheritedProp(node, "name");
  if (typeof name === "string" && TIMEOUT_NAMES.has(name)) return fromVerdict({ class: "timeout" }, "none");
  if (typeof code === "string" && code !== "") return unknownResult("other");
  if (typeof message === "string" && FIXED_MESSAGES.has(message.toLowerCase())) return classifyNet("net", { message });
  return undefined;
}

function children(node: object): unknown[] {
  const next: unknown[] = [];
  const cause = inheritedProp(node, "cause");
  if (cause !== undefined) next.push(cause);
  const errors = inheritedProp(node, "errors");
  if (Array.isArray(errors)) next.push(...(errors as unknown[]).slice(0, 8));
  return next;
}

function walk(root: unknown): Classification {
  const seen = new Set<object>();
  let fallback: Classification | undefined;
  let level: unknown[] = [root];
  for (let depth = 0; depth <= MAX_DEPTH && level.length > 0; depth++) {
    const next: unknown[] = [];
    for (const node of level) {
      if (node === null || (typeof node !== "object" && typeof node !== "function")) continue;
      if (seen.has(node) || seen.size >= MAX_NODES) continue;
      seen.add(node);
      const result = classifyNode(node);
      const isWrapper =
        WRAPPER_CODES.has(String(inheritedProp(node, "code"))) && inheritedProp(node, "cause") !== undefined;
      // A positive reply on a thrown error explains nothing; keep looking, but remember the code.
      if (result !== undefined && result.class !== "unknown" && result.class !== "ok" && !isWrapper) return result;
      if (result !== undefined && isWrapper) {
        // The wrapper's verdict beats an unknown fallback but not what its cause says.
        if (fallback === undefined || fallback.class === "unknown") fallback = result;
      } else if (result !== undefined) {
        fallback ??= result.class === "ok" ? { ...unknownResult("none"), code: result.code } : result;
      }
      next.push(...children(node));
    }
    level = next;
  }
  return fallback ?? unknownResult("none");
}

/**
 * Classifies whatever a probe threw: a ProbeError's facts first, else the `cause` chain (depth ≤ 8, cycle-safe,
 * AggregateError members included) for a ProbeError with facts, an undici error carrying an HTTP response (classified
 * as HTTP), a known Node/undici/OpenSSL `code`, an AbortError/TimeoutError, or one of undici fetch's fixed code-less
 * messages. Proxy wrappers yield to their cause. Never throws; `unknown` when nothing is recognised.
 */
export function classifyFailure(error: unknown): Classification {
  try {
    return walk(error);
  } catch {
    return unknownResult("none");
  }
}
