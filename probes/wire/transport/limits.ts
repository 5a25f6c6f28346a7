/**
 * Longest one reply may keep arriving after its first line (an SMTP multi-line reply; the untagged responses of one
 * IMAP command). Real servers send a reply in a burst; one that drips or floods for longer is a protocol failure, so
 * it is reported as such well before the run's deadline would report a timeout.
 */
export const MAX_REPLY_STREAM_MS = 3000;
