// Whether a pid names a live process (pid files and lock files left by a crash must not block a restart).

/** True when the process exists, even if it belongs to another user (EPERM). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
