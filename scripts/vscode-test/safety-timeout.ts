// The runner's one wall-clock limit: a safety net that fails a hung run loudly instead of letting
// CI wait forever. Tests themselves have no time limits.

export const DEFAULT_TIMEOUT_MS = 10 * 60 * 1000;

/** Runs `work`; rejects with a clear message if it has not settled after `ms`. */
export async function withSafetyTimeout<T>(what: string, ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result after ${Math.round(ms / 1000)} s (runner safety timeout); giving up`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
