// Getting the challenge kernel image with a real Docker engine, offline: a missing image whose pull fails (a registry on
// a closed loopback port) is built from a build context (FROM the local busybox test image, legacy builder so no
// registry is asked), once for concurrent callers, and then runs; a failing build gives both causes and the commands.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureKernelImage, kernelImagePresent, shippedKernelBuildContext, type KernelImageStep } from '../../src/provider/challenge-kernel-image.js';
import { docker, ensureDocker, ensureTestImage, TEST_IMAGE } from '../support/docker.js';

const dockerReady = await ensureDocker();
const unique = `${process.pid}-${Date.now()}`;
const LEGACY_BUILDER = { DOCKER_BUILDKIT: '0' };

describe.skipIf(!dockerReady)('the challenge kernel image: present, pulled or built', () => {
  const dirs: string[] = [];
  const images: string[] = [];
  beforeAll(async () => {
    await ensureTestImage();
  }, 120_000);
  afterAll(async () => {
    if (images.length > 0) await docker(['image', 'rm', '-f', ...images]);
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  const context = async (dockerfile: string, files: Record<string, string> = {}) => {
    const dir = await mkdtemp(join(tmpdir(), 'iocli-kernel-context-'));
    dirs.push(dir);
    await writeFile(join(dir, 'Dockerfile'), dockerfile);
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
    return dir;
  };
  // Pulls from 127.0.0.1:1 are refused at once: no registry is ever asked.
  const unpullable = (name: string) => {
    const image = `127.0.0.1:1/iocli-test/kernel-${name}:${unique}`;
    images.push(image);
    return image;
  };

  it('builds a missing image the registry does not have, once for concurrent callers, and the image runs', async () => {
    const image = unpullable('built');
    const buildContext = await context(`FROM ${TEST_IMAGE}\nCOPY marker.txt /opt/iocli/marker.txt\nENTRYPOINT ["/bin/cat", "/opt/iocli/marker.txt"]\n`, { 'marker.txt': `kernel ${unique}\n` });
    expect(await kernelImagePresent(image)).toBe(false);
    const steps: KernelImageStep[] = [];
    const options = { image, buildContext, dockerEnv: LEGACY_BUILDER, onStep: (step: KernelImageStep) => steps.push(step) };
    const [first, second] = await Promise.all([ensureKernelImage(options), ensureKernelImage(options)]);
    expect(first).toMatchObject({ image, source: 'built', buildContext, pullError: expect.stringMatching(/127\.0\.0\.1:1.*refused/) });
    expect(second).toBe(first);
    expect(steps.filter((s) => s.state === 'pulling')).toHaveLength(1);
    expect(steps.filter((s) => s.state === 'building')).toEqual([{ state: 'building', image, context: buildContext, command: `docker build --force-rm -t ${image} ${buildContext}`, pullError: first.pullError }]);
    expect(steps.filter((s) => s.state === 'build-progress').map((s) => (s as { line: string }).line)).toEqual([expect.stringMatching(/^Step 1\/3 : FROM/), expect.stringMatching(/^Step 2\/3 : COPY/), expect.stringMatching(/^Step 3\/3 : ENTRYPOINT/)]);
    expect(steps.at(-1)).toMatchObject({ state: 'ready', source: 'built' });
    const ran = await docker(['run', '--rm', '--network', 'none', image]);
    expect(ran).toMatchObject({ code: 0, stdout: `kernel ${unique}\n` });
    // Found the next time: nothing is pulled or built again.
    steps.length = 0;
    expect(await ensureKernelImage(options)).toMatchObject({ source: 'present' });
    expect(steps).toEqual([]);
  }, 120_000);

  it('says both causes and the commands to run by hand when the pull and the build fail', async () => {
    const image = unpullable('broken');
    const buildContext = await context(`FROM ${TEST_IMAGE}\nRUN exit 7\n`);
    const attempt = ensureKernelImage({ image, buildContext, dockerEnv: LEGACY_BUILDER });
    await expect(attempt).rejects.toMatchObject({
      code: 'KERNEL_IMAGE_UNAVAILABLE',
      exitCode: 3,
      details: { image, buildContext, pullError: expect.stringMatching(/refused/), buildError: expect.stringMatching(/non-zero code: 7/) },
    });
    const message = await attempt.catch((error: Error) => error.message);
    expect(message).toContain(`could not pull the challenge kernel image ${image} (`);
    expect(message).toContain(`nor build it from ${buildContext} (`);
    expect(message).toContain(`\`docker build -t ${image} ${buildContext}\``);
    expect(await kernelImagePresent(image)).toBe(false);
    // The failed step's container is removed with the build.
    expect((await docker(['ps', '-aq', '--filter', `ancestor=${TEST_IMAGE}`, '--filter', 'status=exited', '--format', '{{.Command}}'])).stdout).not.toContain('exit 7');
    // A failed attempt is not remembered: the next challenge tries again (here: a fixed Dockerfile builds).
    await writeFile(join(buildContext, 'Dockerfile'), `FROM ${TEST_IMAGE}\n`);
    expect(await ensureKernelImage({ image, buildContext, dockerEnv: LEGACY_BUILDER })).toMatchObject({ source: 'built' });
  }, 120_000);

  it('skipPull builds without asking a registry', async () => {
    const image = `iocli-test/kernel-skip-pull:${unique}`;
    images.push(image);
    const buildContext = await context(`FROM ${TEST_IMAGE}\n`);
    const steps: string[] = [];
    const result = await ensureKernelImage({ image, buildContext, dockerEnv: LEGACY_BUILDER, skipPull: true, onStep: (s) => steps.push(s.state) });
    expect(result).toMatchObject({ source: 'built', pullError: 'not tried (--build)' });
    expect(steps).not.toContain('pulling');
  }, 120_000);
});

describe('the shipped build context', () => {
  it('is found from the sources (the package root above src/)', () => {
    expect(shippedKernelBuildContext()).toBe(join(process.cwd(), 'src', 'provider', 'challenge-kernel'));
  });
  it('is not found outside a package that ships it', () => {
    expect(shippedKernelBuildContext(tmpdir())).toBeUndefined();
  });
});
