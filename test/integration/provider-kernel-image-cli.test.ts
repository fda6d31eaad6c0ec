// `iocli provide kernel-image` and the preflight's kernel image check through the real binary (the CLI bundle in dist/),
// with a real Docker engine, offline: a build from an injected context (FROM the local busybox test image, legacy
// builder), the shipped Dockerfile found from the bundle, and the image's state in `provide --preflight --json`.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, runCli } from '../support/cli.js';
import { docker, ensureDocker, ensureTestImage, TEST_IMAGE } from '../support/docker.js';

const hasDocker = await ensureDocker();
const unique = `${process.pid}-${Date.now()}`;

describe.skipIf(!hasDocker)('iocli provide kernel-image and the preflight kernel image check (binary)', () => {
  let home: string;
  let env: Record<string, string>;
  const images: string[] = [];
  beforeAll(async () => {
    assertBuilt();
    await ensureTestImage();
    home = await mkdtemp(join(tmpdir(), 'iocli-kernel-image-cli-'));
    env = { HOME: home, IOCLI_CONFIG_DIR: join(home, 'config'), XDG_CONFIG_HOME: join(home, '.config'), DOCKER_BUILDKIT: '0' };
  }, 120_000);
  afterAll(async () => {
    if (images.length > 0) await docker(['image', 'rm', '-f', ...images]);
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('builds an image no registry has from --context, prints one JSON document, and finds it the next time', async () => {
    const image = `127.0.0.1:1/iocli-test/kernel-cli:${unique}`;
    images.push(image);
    const context = await mkdtemp(join(home, 'context-'));
    await writeFile(join(context, 'Dockerfile'), `FROM ${TEST_IMAGE}\nLABEL iocli.test=kernel-cli\n`);
    const built = await runCli(['provide', 'kernel-image', '--image', image, '--context', context, '--json'], { env });
    expect(built.code, built.stderr).toBe(0);
    expect(JSON.parse(built.stdout)).toMatchObject({ image, source: 'built', buildContext: context, pullError: expect.stringMatching(/refused/) });
    const again = await runCli(['provide', 'kernel-image', '--image', image, '--json'], { env });
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ image, source: 'present' });
  }, 120_000);

  it('uses the Dockerfile shipped in the package, and names both causes and the commands when nothing works (exit 3)', async () => {
    // No daemon at all (a socket that does not exist): neither the pull nor the build reaches anything.
    const image = `iocli-test/kernel-cli-nodaemon:${unique}`;
    const result = await runCli(['provide', 'kernel-image', '--image', image, '--json'], { env: { ...env, DOCKER_HOST: `unix://${join(home, 'no.sock')}` } });
    expect(result.code).toBe(3);
    const { error } = JSON.parse(result.stdout);
    const shipped = join(process.cwd(), 'src', 'provider', 'challenge-kernel');
    expect(error).toMatchObject({ code: 'KERNEL_IMAGE_UNAVAILABLE', details: { image, buildContext: shipped, pullError: expect.stringMatching(/Cannot connect/), commands: { build: `docker build -t ${image} ${shipped}` } } });
    expect(error.message).toMatch(/could not pull the challenge kernel image .* nor build it from /);
  }, 60_000);

  it.each([
    ['present', TEST_IMAGE, true, 'ok'],
    ['missing', `iocli-test/kernel-cli-missing:${unique}`, false, 'warn'],
  ])('--preflight --json reports a %s kernel image (IOCLI_CHALLENGE_IMAGE)', async (_name, image, present, status) => {
    const result = await runCli(['provide', '--preflight', '--json'], { env: { ...env, IOCLI_CHALLENGE_IMAGE: image } });
    // This machine has no GPU: the preflight fails (exit 3) and carries its report in the error's details.
    const doc = result.code === 0 ? JSON.parse(result.stdout) : JSON.parse(result.stdout).error.details;
    expect(doc.kernelImage).toEqual({ image, present });
    const check = doc.checks.find((c: { id: string }) => c.id === 'kernel-image');
    expect(check).toMatchObject({ status, message: expect.stringContaining(image) });
    if (!present) expect(check.hint).toMatch(/iocli provide kernel-image/);
  }, 60_000);

  it('--preflight with simulated GPUs does not check the kernel image (they answer with the CPU stand-in)', async () => {
    const result = await runCli(['provide', '--preflight', '--simulate-gpus', '1', '--json'], { env: { ...env, IOCLI_CHALLENGE_IMAGE: `iocli-test/kernel-cli-missing:${unique}` } });
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(doc.kernelImage).toBeNull();
    expect(doc.checks.map((c: { id: string }) => c.id)).not.toContain('kernel-image');
  }, 60_000);
});
