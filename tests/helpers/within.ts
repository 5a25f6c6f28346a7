/**
 * `promise`'s outcome, or a rejection naming `what` after `ms`: a test whose regression would otherwise be a hang
 * fails fast and says what did not happen, instead of hitting vitest's 20 s test timeout.
 */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
