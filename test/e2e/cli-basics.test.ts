// The real binary's contract with scripts: exit codes, one-line errors with hints, JSON purity.
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, tempHome } from '../support/cli.js';

const home = tempHome();
afterAll(() => home.cleanup());
const cli = (args: string[], extra: { env?: Record<string, string>; input?: string } = {}) =>
  runCli(args, { env: { ...home.env, ...extra.env }, input: extra.input });

function expectOneLineError(stderr: string, pattern: RegExp) {
  const lines = stderr.trim().split('\n');
  expect(lines[0]).toMatch(/^Error: /);
  expect(lines[0]).toMatch(pattern);
  expect(lines.length).toBeLessThanOrEqual(2);
  if (lines[1]) expect(lines[1]).toMatch(/^hint: /);
  expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
}

describe('iocli binary', () => {
  it('prints its version and help', async () => {
    const version = await cli(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Exit codes:');
    expect(help.stdout).toMatch(/wallet\s+Create, import/);
  });

  it.each([
    [['frobnicate'], /Unknown command 'frobnicate'/],
    [['wallet', 'new', '--bogus'], /Unknown option '--bogus'/],
    [['config', 'set', 'api-url'], /Missing required argument 'value'/],
    [['config', 'set', 'api-url', 'ftp://x'], /must use http or https/],
    [['config', 'set', 'rpc-url', 'devnett'], /Invalid rpc-url/],
    [['config', 'set', 'colour', 'blue'], /Unknown setting "colour"/],
    [['config', 'set', 'price-per-gpu-hour', '-3'], /Invalid price-per-gpu-hour/],
    [['--url', 'nowhere', 'config', 'list'], /Invalid --url/],
  ])('exits 2 with a one-line error for bad usage: %j', async (args, message) => {
    const result = await cli(args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expectOneLineError(result.stderr, message);
  });

  it('creates a wallet with mode 0600 and refuses to overwrite it', async () => {
    const path = join(home.dir, 'wallet.json');
    const created = await cli(['wallet', 'new', '--outfile', path, '--json']);
    expect(created.code).toBe(0);
    const { publicKey } = JSON.parse(created.stdout) as { publicKey: string };
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toHaveLength(64);
    expect(created.stdout).not.toContain(readFileSync(path, 'utf8').trim()); // the secret is never printed

    const again = await cli(['wallet', 'new', '--outfile', path]);
    expect(again.code).toBe(1);
    expectOneLineError(again.stderr, /already exists/);

    const shown = await cli(['wallet', 'show', '--keypair', path, '--json']);
    expect(JSON.parse(shown.stdout)).toEqual({ publicKey, path });
  });

  it.each([
    ['wrong length', JSON.stringify([1, 2, 3]), 0o600, /expected 64 bytes, found 3/],
    ['not JSON', '[1, 2,', 0o600, /not valid JSON/],
    ['not a key at all', 'hello world', 0o600, /neither a JSON byte array nor a base58/],
    ['readable by others', JSON.stringify(Array.from({ length: 64 }, () => 7)), 0o644, /readable by other users/],
  ])('rejects a malformed keypair file (%s) with exit 1', async (_name, content, mode, message) => {
    const path = join(home.dir, `bad-${mode}-${content.length}.json`);
    writeFileSync(path, content);
    chmodSync(path, mode);
    const result = await cli(['wallet', 'show', '--keypair', path]);
    expect(result.code).toBe(1);
    expectOneLineError(result.stderr, message);
  });

  it('reports a missing keypair with the command that creates one', async () => {
    const result = await cli(['wallet', 'show', '--keypair', join(home.dir, 'none.json')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/hint: Create one with `iocli wallet new`/);
  });

  it('exits 3 when the RPC is unreachable', async () => {
    const path = join(home.dir, 'rpc-wallet.json');
    await cli(['wallet', 'new', '--outfile', path]);
    const result = await cli(['wallet', 'balance', '--keypair', path, '--url', 'http://127.0.0.1:9', '--api-url', 'http://127.0.0.1:9']);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/Cannot reach the Solana RPC at http:\/\/127\.0\.0\.1:9/);
    expect(result.stderr).toMatch(/hint: /);
  });

  it('prints exactly one JSON document on stdout with --json, also for errors', async () => {
    const ok = await cli(['config', 'list', '--json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).profile).toBe('local');
    const failed = await cli(['config', 'set', 'region', 'Not A Region', '--json']);
    expect(failed.code).toBe(2);
    expect(JSON.parse(failed.stdout).error).toMatchObject({ code: 'USAGE', exitCode: 2 });
  });

  it('stores settings and applies env overrides above the config file', async () => {
    expect((await cli(['config', 'set', 'api-url', 'http://127.0.0.1:7000'])).code).toBe(0);
    const fromFile = JSON.parse((await cli(['config', 'get', 'api-url', '--json'])).stdout);
    expect(fromFile).toMatchObject({ value: 'http://127.0.0.1:7000', source: 'config' });
    const fromEnv = JSON.parse((await cli(['config', 'get', 'api-url', '--json'], { env: { IOCLI_API_URL: 'http://127.0.0.1:7001' } })).stdout);
    expect(fromEnv).toMatchObject({ value: 'http://127.0.0.1:7001', source: 'env' });
    const fromFlag = JSON.parse((await cli(['config', 'get', 'api-url', '--json', '--api-url', 'http://127.0.0.1:7002'])).stdout);
    expect(fromFlag).toMatchObject({ value: 'http://127.0.0.1:7002', source: 'flag' });
    expect((await cli(['config', 'reset', '--yes'])).code).toBe(0);
    expect(JSON.parse((await cli(['config', 'get', 'api-url', '--json'])).stdout).source).toBe('profile');
  });

  it('never prompts when not interactive: a missing confirmation names its flag', async () => {
    const result = await cli(['config', 'reset']);
    expect(result.code).toBe(2);
    // The same words as every other confirmation (it used to be the prompter's generic "Missing input").
    expect(result.stderr).toMatch(/Resetting all settings needs a confirmation, but this is not an interactive terminal\./);
    expect(result.stderr).toMatch(/hint: Pass --yes/);
  });
});
