/** C0 and C1 control characters, DEL, and the Unicode bidi overrides/isolates that reorder what a terminal shows. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/**
 * Text from a peer made safe to print on a terminal, a log line or a page: every control character (ESC, BEL, CSI
 * U+009B, CR, LF, ...) and bidi override is written as a visible escape (`\x1b`, `\u202e`), so a server's reply can
 * neither recolour, retitle or clear a terminal nor fake a line of output.
 */
export function escapeControl(text: string): string {
  return text.replace(CONTROL, (c) => {
    const named = NAMED[c];
    if (named !== undefined) return named;
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}
