// Polling with a deadline, for tests that wait on processes, containers and servers.

/** Polls `check` until it returns a value other than undefined/false, or throws with `what` (and `context()`) at the deadline. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  {
    timeoutMs = 30_000,
    intervalMs = 150,
    context,
    giveUpIf,
  }: { timeoutMs?: number; intervalMs?: number; context?: () => string; /** a reason to stop waiting at once (e.g. a process died) */ giveUpIf?: () => string | undefined } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    const reason = giveUpIf?.();
    if (reason) throw new Error(`Gave up waiting for ${what}: ${reason}${context ? `\n${context()}` : ''}`);
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const extra = context ? `\n${context()}` : '';
      const cause = lastError ? `\nlast error: ${(lastError as Error).message}` : '';
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${cause}${extra}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
