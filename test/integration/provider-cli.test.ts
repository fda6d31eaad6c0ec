// `iocli provide` through the real binary: preflight (real Docker, simulated GPUs), exit codes, non-interactive setup errors,
// and install-service writing a unit.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeKeypairFile, generateKeypair } from '../../src/wallet/keypair.js';
import { assertBuilt, BIN, runCli } from '../support/cli.js';
import { ensureDocker } from '../support/docker.js';

const hasDocker = await ensureDocker();

describe.skipIf(!hasDocker)('iocli provide (binary)', () => {
  let home: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    assertBuilt();
    home = await mkdtemp(join(tmpdir(), 'iocli-provide-cli-'));
    env = { HOME: home, IOCLI_CONFIG_DIR: join(home, 'config'), XDG_CONFIG_HOME: join(home, '.config') };
  });
  afterAll(async () => {
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('--preflight with simulated GPUs passes on a machine with Docker and prints one JSON document', async () => {
    const result = await runCli(['provide', '--preflight', '--simulate-gpus', '2:H100', '--json'], { env });
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(doc).toMatchObject({ ok: true, simulated: true });
    expect(doc.checks.map((c: { id: string; status: string }) => `${c.id}:${c.status}`)).toEqual(
      expect.arrayContaining(['docker:ok', 'docker-daemon:ok', 'nvidia-runtime:skipped', 'gpus:ok', 'driver:skipped']),
    );
  });

  it('--preflight exits 3 with the fix when the Docker daemon is unreachable', async () => {
    const result = await runCli(['provide', '--preflight', '--simulate-gpus', '1', '--json'], { env: { ...env, DOCKER_HOST: `unix://${join(home, 'no.sock')}` } });
    expect(result.code).toBe(3);
    const doc = JSON.parse(result.stdout);
    expect(doc.error.code).toBe('PREFLIGHT_FAILED');
    expect(doc.error.hint).toMatch(/systemctl start docker/);
    expect(doc.error.details.checks.find((c: { id: string }) => c.id === 'docker-daemon').status).toBe('fail');
  });

  it('without a TTY and without flags, names the missing flag (exit 2)', async () => {
    const result = await runCli(['provide', '--simulate-gpus', '1'], { env });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--gpus/);
  });

  it('rejects bad flag values before doing anything (exit 2)', async () => {
    for (const args of [['--simulate-gpus', '99'], ['--price', 'cheap'], ['--gpus', 'x'], ['--interval', '0']]) {
      const result = await runCli(['provide', ...args], { env });
      expect(result.code, args.join(' ')).toBe(2);
    }
  });

  it('install-service writes a unit with absolute node/bin paths and the same flags', async () => {
    const keypair = join(home, 'id.json');
    await writeKeypairFile(keypair, generateKeypair());
    const output = join(home, 'units', 'iocli-provider.service');
    const result = await runCli(
      ['provide', 'install-service', '--user', '--output', output, '--gpus', 'all', '--price', '2.5', '--region', 'eu-west', '--keypair', keypair, '--json'],
      { env },
    );
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(doc.path).toBe(output);
    expect(doc.commands).toContain('systemctl --user enable --now iocli-provider.service');
    const unit = await readFile(output, 'utf8');
    expect(unit).toContain(`ExecStart=${process.execPath} ${BIN} provide --gpus all --price 2.5 --region eu-west --keypair ${keypair} --yes`);
    expect(unit).toMatch(/^Restart=always$/m);
    expect(unit).toMatch(/^After=.*docker\.service/m);
  });

  it('status without a registered node says how to start (exit 1)', async () => {
    const result = await runCli(['provide', 'status', '--data-dir', join(home, 'none')], { env });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/iocli provide/);
  });
});
