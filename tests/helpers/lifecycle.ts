import { afterEach } from "vitest";

/** Something a test starts and must stop. */
export interface Closable {
  close(): Promise<void>;
}

/** Registers an afterEach in the calling file that closes every server handed to the returned `keep`. */
export function closeAfterEach(): <T extends Closable>(server: T) => T {
  const open: Closable[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((server) => server.close()));
  });
  return (server) => {
    open.push(server);
    return server;
  };
}
