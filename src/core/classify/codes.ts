import { IMAP_CODES } from "./imap.js";
import { KNOWN_NET_CODES } from "./net.js";
import { KNOWN_SLACK_ERRORS } from "./provider-codes.js";
import { ENHANCED_CODE } from "./smtp.js";

const IMAP: ReadonlySet<string> = new Set(IMAP_CODES);
const STATUS_OR_REPLY = /^[1-5]\d\d$/;
const AADSTS = /^AADSTS\d{1,8}$/;

/**
 * True when `code` is one of the bounded label values: an RFC 3463 enhanced code, a 3-digit reply code or HTTP status,
 * an AADSTS code, a known IMAP response code, Slack error or Node/undici/OpenSSL code, `other` or `none`.
 */
export function isBoundedCode(code: string): boolean {
  return (
    code === "other" ||
    code === "none" ||
    ENHANCED_CODE.test(code) ||
    STATUS_OR_REPLY.test(code) ||
    AADSTS.test(code) ||
    IMAP.has(code) ||
    KNOWN_SLACK_ERRORS.has(code) ||
    KNOWN_NET_CODES.has(code)
  );
}
