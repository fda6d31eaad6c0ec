// The provider preflight's checks for people: a full report (`provide --preflight`) or one line each on stderr (start).
import type { PreflightCheck, ProviderPreflight } from '../../src/provider/preflight.js';
import type { Context } from '../context.js';
import type { HumanRenderer } from '../output.js';

const MARK: Record<PreflightCheck['status'], string> = { ok: '✔', warn: '!', fail: '✖', skipped: '-' };

export function renderPreflight(preflight: ProviderPreflight, r: HumanRenderer): void {
  const paint = (status: PreflightCheck['status'], text: string) =>
    status === 'ok' ? r.colors.green(text) : status === 'fail' ? r.colors.red(text) : status === 'warn' ? r.colors.yellow(text) : r.colors.dim(text);
  for (const check of preflight.checks) {
    r.line(`${paint(check.status, MARK[check.status])} ${check.title}: ${check.message}`);
    if (check.hint && check.status !== 'ok') r.line(`    ${r.colors.dim('fix:')} ${check.hint}`);
  }
  r.line(preflight.ok ? r.colors.green('Ready to provide.') : r.colors.red('Not ready: fix the problems above.'));
}

export function renderChecksToStderr(checks: PreflightCheck[], ctx: Context): void {
  for (const check of checks) {
    if (check.status === 'ok' || check.status === 'skipped') ctx.out.info(`${MARK[check.status]} ${check.title}: ${check.message}`);
    else ctx.out.warn(`${check.title}: ${check.message}${check.hint ? `\n    fix: ${check.hint}` : ''}`);
  }
}
