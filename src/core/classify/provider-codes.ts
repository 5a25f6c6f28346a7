import type { Verdict } from "./verdict.js";

const AUTH: Verdict = { class: "auth" };
const PERMISSION: Verdict = { class: "permission" };
const NOT_FOUND: Verdict = { class: "not_found" };
const PROTOCOL: Verdict = { class: "protocol" };
const REJECTED: Verdict = { class: "rejected" };
const THROTTLED: Verdict = { class: "throttled" };
const UNAVAILABLE: Verdict = { class: "unavailable" };
const SERVER_ERROR: Verdict = { class: "server_error" };
const QUOTA: Verdict = { class: "quota" };

function table(groups: readonly (readonly [Verdict, readonly (string | number)[]])[]): ReadonlyMap<string, Verdict> {
  const map = new Map<string, Verdict>();
  for (const [verdict, keys] of groups) for (const key of keys) map.set(String(key).toLowerCase(), verdict);
  return map;
}

/**
 * Entra ID AADSTS codes (learn.microsoft.com/entra/identity-platform/reference-error-codes). Unlisted codes fall back
 * to the OAuth `error` value and then to the HTTP status, but are still reported as `code`.
 */
export const AADSTS_CODES = table([
  [
    AUTH,
    [
      16000, 50012, 50013, 50027, 50034, 50053, 50055, 50056, 50057, 50058, 50064, 50072, 50074, 50076, 50078, 50079,
      50089, 50097, 50126, 50132, 50133, 50144, 50158, 50173, 51004, 53004, 54005, 70000, 70001, 70002, 70008, 70043,
      81010, 90072, 500133, 700011, 700016, 700020, 700024, 700027, 700082, 700084, 7000112, 7000215, 7000218, 7000222,
    ],
  ],
  [
    PERMISSION,
    [
      50005, 50020, 50105, 50131, 53000, 53001, 53002, 53003, 65001, 65004, 65005, 90008, 90094, 500021, 500022, 500212,
      500213, 530032, 530035, 650056, 650057,
    ],
  ],
  [NOT_FOUND, [50001, 50128, 90002, 500011]],
  [PROTOCOL, [28002, 28003, 50011, 50059, 70011, 90004, 90014, 90023, 700022, 700023, 900144, 9002313]],
  // "A transient error", "temporarily unavailable", "Try again": retry (error-facts.md §6).
  [UNAVAILABLE, [40010, 50033, 50087, 70012, 80001, 80002, 80005, 90006, 90024, 90033, 90090, 90091, 501621]],
  [SERVER_ERROR, [40008, 50000, 50086, 90036, 90092]],
  [THROTTLED, [50088, 50166, 90055]],
  // LoopDetected: Entra throttles a client that asks for the same token too often — our loop, our side.
  [{ class: "throttled", side: "config" }, [50196]],
  [{ class: "timeout", side: "provider" }, [80014, 90012]],
]);

/** OAuth 2.0 `error` values of the Entra token endpoint (RFC 6749 §5.2, Entra reference, RFC 8628 slow_down). */
export const ENTRA_ERRORS = table([
  [AUTH, ["invalid_grant", "invalid_client", "unauthorized_client", "interaction_required", "login_required"]],
  [AUTH, ["expired_token"]],
  [PERMISSION, ["consent_required", "access_denied"]],
  [PROTOCOL, ["invalid_request", "invalid_scope", "unsupported_grant_type", "unsupported_response_type"]],
  [NOT_FOUND, ["invalid_resource"]],
  [UNAVAILABLE, ["temporarily_unavailable"]],
  [SERVER_ERROR, ["server_error"]],
  [THROTTLED, ["slow_down"]],
]);

/** Microsoft Graph `error.code` values (learn.microsoft.com/graph/errors, /graph/throttling, Outlook/Entra workloads). */
export const GRAPH_CODES = table([
  [
    PERMISSION,
    [
      "accessDenied",
      "ErrorAccessDenied",
      "Authorization_RequestDenied",
      "Forbidden",
      "notAllowed",
      "ErrorSendAsDenied",
    ],
  ],
  [AUTH, ["unauthenticated", "InvalidAuthenticationToken", "Unauthorized"]],
  [
    THROTTLED,
    [
      "activityLimitReached",
      "TooManyRequests",
      "throttledRequest",
      "ApplicationThrottled",
      "ErrorServerBusy",
      "ErrorExceededConnectionCount",
    ],
  ],
  [
    UNAVAILABLE,
    [
      "serviceNotAvailable",
      "ServiceUnavailable",
      "ErrorInternalServerTransientError",
      "ErrorMailboxStoreUnavailable",
      "ErrorMailboxMoveInProgress",
    ],
  ],
  [SERVER_ERROR, ["generalException", "UnknownError", "InternalServerError", "ErrorInternalServerError"]],
  [
    PROTOCOL,
    [
      "invalidRange",
      "invalidRequest",
      "BadRequest",
      "Request_BadRequest",
      "ErrorInvalidRequest",
      "ErrorInvalidIdMalformed",
      "notSupported",
      "resyncRequired",
      "resourceModified",
    ],
  ],
  [
    NOT_FOUND,
    [
      "itemNotFound",
      "ErrorItemNotFound",
      "ResourceNotFound",
      "Request_ResourceNotFound",
      "NotFound",
      "ErrorInvalidUser",
      "MailboxNotEnabledForRESTAPI",
    ],
  ],
  [REJECTED, ["malwareDetected", "nameAlreadyExists", "ErrorMessageSizeExceeded"]],
  [QUOTA, ["quotaLimitReached", "ErrorQuotaExceeded"]],
  [{ class: "timeout", side: "provider" }, ["ErrorTimeoutExpired"]],
]);

/** Slack Web API and incoming-webhook `error` values (docs.slack.dev method and webhook references). */
export const SLACK_ERRORS = table([
  [
    AUTH,
    [
      "not_authed",
      "invalid_auth",
      "account_inactive",
      "token_revoked",
      "token_expired",
      "invalid_token",
      "org_login_required",
      "two_factor_setup_required",
      "not_allowed_token_type",
    ],
  ],
  [
    PERMISSION,
    [
      "missing_scope",
      "not_in_channel",
      "user_not_in_channel",
      "no_permission",
      "restricted_action",
      "restricted_action_read_only_channel",
      "restricted_action_thread_only_channel",
      "restricted_action_non_threadable_channel",
      "ekm_access_denied",
      "cant_delete_message",
      "cant_update_message",
      "access_denied",
      "accesslimited",
      "team_access_not_granted",
      "enterprise_is_restricted",
      "action_prohibited",
      "posting_to_general_channel_denied",
      "team_disabled",
    ],
  ],
  [
    NOT_FOUND,
    [
      "channel_not_found",
      "user_not_found",
      "users_not_found",
      "message_not_found",
      "thread_not_found",
      "file_not_found",
      "no_service",
      "no_active_hooks",
    ],
  ],
  [THROTTLED, ["ratelimited", "rate_limited"]],
  [UNAVAILABLE, ["internal_error", "service_unavailable", "team_added_to_org"]],
  [SERVER_ERROR, ["fatal_error"]],
  [
    PROTOCOL,
    [
      "invalid_arguments",
      "invalid_arg_name",
      "invalid_array_arg",
      "invalid_charset",
      "invalid_form_data",
      "invalid_post_type",
      "missing_post_type",
      "invalid_json",
      "json_not_object",
      "invalid_payload",
      "invalid_blocks",
      "invalid_blocks_format",
      "invalid_cursor",
      "no_text",
      "method_deprecated",
      "deprecated_endpoint",
      "upgrade_required",
      "as_user_not_supported",
    ],
  ],
  // "The POST data was either missing or truncated": the request was cut on the way.
  [{ class: "protocol", retryable: true, side: "network" }, ["request_timeout"]],
  [
    REJECTED,
    [
      "msg_too_long",
      "too_many_attachments",
      "attachment_payload_limit_exceeded",
      "metadata_too_large",
      "is_archived",
      "channel_is_archived",
      "cannot_reply_to_message",
      "edit_window_closed",
      "compliance_exports_prevent_deletion",
    ],
  ],
]);

/**
 * Provider codes that only say "something failed on our side" (Graph UnknownError / generalException, OAuth
 * server_error). They name the class when the status says nothing more, but a transient status (502/503/504, 429, any
 * 5xx with Retry-After) decides over them: Graph gateways answer 503/504 with `UnknownError` during outages.
 */
export const GENERIC_SERVER_CODES: ReadonlySet<string> = new Set(
  ["UnknownError", "generalException", "InternalServerError", "ErrorInternalServerError", "server_error"].map((c) =>
    c.toLowerCase(),
  ),
);

/** The Slack error values `code` may carry (the keys of SLACK_ERRORS, all lowercase snake_case). */
export const KNOWN_SLACK_ERRORS: ReadonlySet<string> = new Set(SLACK_ERRORS.keys());
