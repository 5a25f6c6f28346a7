/** A parsed `host[:port]` target. */
export interface SocketTarget {
  host: string;
  port: number;
  /** `host:port` with IPv6 in brackets: the `target` label. */
  label: string;
}

/** Parses `host`, `host:port`, `[v6]` or `[v6]:port`; returns an error message instead of throwing. */
export function parseSocketTarget(text: string, defaultPort: number): SocketTarget | { error: string } {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]/]+))(?::(\d{1,5}))?$/.exec(text);
  if (match === null) {
    return text.split(":").length > 2 && !text.startsWith("[")
      ? { error: `"${text}" is not host or host:port (put IPv6 addresses in brackets: [::1]:587)` }
      : { error: `"${text}" is not host or host:port` };
  }
  const host = match[1] ?? match[2] ?? "";
  const port = match[3] === undefined ? defaultPort : Number(match[3]);
  if (port < 1 || port > 65535) return { error: `port ${port} is out of range 1-65535` };
  const label = match[1] !== undefined ? `[${host}]:${port}` : `${host}:${port}`;
  return { host, port, label };
}
