// The container runtime against a real dockerd: security profile, logs, stop/remove, and host safety.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRunArgs, LEASE_CAPABILITIES, type ContainerRunSpec } from '../../src/domain/docker-args.js';
import { createDockerRuntime, type LogChunk } from '../../src/docker/runtime.js';
import { ExternalError, UserError } from '../../src/errors.js';
import { docker, dockerInspect, dockerOk, ensureDocker, ensureTestImage, removeContainersByLabel, TEST_IMAGE } from '../support/docker.js';
import { waitFor } from '../support/wait.js';

const available = await ensureDocker();
const MiB = 1024 * 1024;
const runId = randomUUID().slice(0, 8);
const nodeId = `test-node-${runId}`;
const otherNodeId = `test-other-${runId}`;
const OWNER_LABEL = `iocli-test.run=${runId}`;

function leaseSpec(leaseId: string, overrides: Partial<ContainerRunSpec> = {}): ContainerRunSpec {
  return {
    leaseId,
    nodeId,
    image: TEST_IMAGE,
    gpuUuids: [],
    memoryBytes: 64 * MiB,
    cpus: 0.5,
    pidsLimit: 64,
    readOnlyRoot: true,
    network: 'none',
    name: `iocli-${runId}-${leaseId}`,
    ...overrides,
  };
}

async function rejection(promise: Promise<unknown>): Promise<UserError> {
  try {
    await promise;
  } catch (error) {
    return error as UserError;
  }
  throw new Error('expected a rejection');
}

describe.skipIf(!available)('docker runtime (real dockerd)', () => {
  const runtime = createDockerRuntime({ nodeId });
  const timings: Record<string, number> = {};
  let mainId = '';
  let ownerId = '';
  let ownerName = '';
  let otherNodeContainerId = '';
  let spoofId = '';

  beforeAll(async () => {
    await ensureTestImage();
    // The owner's own containers, which iocli must never touch: one unlabelled, one of another node,
    // one that names this node but lacks iocli.managed.
    ownerName = `owner-${runId}`;
    ownerId = (await dockerOk(['run', '-d', '--network', 'none', '--name', ownerName, '--label', OWNER_LABEL, TEST_IMAGE, 'sleep', '300'])).trim();
    otherNodeContainerId = (
      await dockerOk(['run', '-d', '--network', 'none', '--label', OWNER_LABEL, '--label', 'iocli.managed=true', '--label', `iocli.node=${otherNodeId}`, '--label', 'iocli.lease=x', TEST_IMAGE, 'sleep', '300'])
    ).trim();
    spoofId = (
      await dockerOk(['run', '-d', '--network', 'none', '--label', OWNER_LABEL, '--label', `iocli.node=${nodeId}`, '--label', 'iocli.lease=y', TEST_IMAGE, 'sleep', '300'])
    ).trim();
  });

  afterAll(async () => {
    await removeContainersByLabel(`iocli.node=${nodeId}`);
    await removeContainersByLabel(`iocli.node=${otherNodeId}`);
    await removeContainersByLabel(OWNER_LABEL);
    if (Object.keys(timings).length > 0) process.stderr.write(`docker timings (ms): ${JSON.stringify(timings)}\n`);
  });

  it('preflight reports a reachable daemon, its version and the missing NVIDIA runtime with the fix', async () => {
    const preflight = await runtime.preflight();
    expect(preflight).toMatchObject({ ok: true, dockerInstalled: true, daemonReachable: true, nvidiaRuntime: false });
    expect(preflight.serverVersion).toMatch(/^\d+\.\d+/);
    expect(preflight.runtimes).toContain('runc');
    const nvidia = preflight.problems.find((p) => p.code === 'NVIDIA_RUNTIME_MISSING');
    expect(nvidia?.blocking).toBe(false);
    expect(nvidia?.hint).toContain('nvidia-ctk runtime configure --runtime=docker');
  });

  it('preflight says how to install docker or start the daemon', async () => {
    const missing = await createDockerRuntime({ dockerPath: '/nonexistent/docker' }).preflight();
    expect(missing).toMatchObject({ ok: false, dockerInstalled: false, daemonReachable: false });
    expect(missing.problems[0]).toMatchObject({ code: 'DOCKER_NOT_INSTALLED', blocking: true });
    expect(missing.problems[0]!.hint).toContain('apt-get install -y docker.io');

    const down = await createDockerRuntime({ dockerHost: 'unix:///nonexistent/docker.sock' }).preflight();
    expect(down).toMatchObject({ ok: false, dockerInstalled: true, daemonReachable: false, serverVersion: null });
    expect(down.clientVersion).toMatch(/^\d+\./);
    expect(down.problems[0]!.hint).toContain('systemctl start docker');
  });

  it('errors from an unreachable daemon are ExternalErrors with the command and a hint', async () => {
    const error = await rejection(createDockerRuntime({ dockerHost: 'unix:///nonexistent/docker.sock' }).imageExists(TEST_IMAGE));
    expect(error).toBeInstanceOf(ExternalError);
    expect(error).toMatchObject({ code: 'DOCKER_DAEMON_UNREACHABLE', command: `docker image inspect --format "{{.Id}}" ${TEST_IMAGE}` });
    expect(error.hint).toContain('systemctl start docker');
  });

  it('imageExists', async () => {
    expect(await runtime.imageExists(TEST_IMAGE)).toBe(true);
    expect(await runtime.imageExists(`iocli-test/absent-${runId}:1`)).toBe(false);
    await expect(runtime.imageExists('Bad Ref')).rejects.toMatchObject({ code: 'IMAGE_REF_INVALID' });
  });

  it('runs a lease container with the full security profile', async () => {
    const script = [
      'mount -t tmpfs none /mnt 2>/dev/null && echo MOUNT=ok || echo MOUNT=fail',
      'touch /rootfile 2>/dev/null && echo ROOTWRITE=ok || echo ROOTWRITE=fail',
      'ls /var/run/docker.sock >/dev/null 2>&1 && echo SOCK=yes || echo SOCK=no',
      'touch /tmp/scratch && echo TMPWRITE=ok || echo TMPWRITE=fail',
      'echo "ENV=$GREETING"',
      'for i in 0 1 2 3 4; do echo line-$i; done',
      'echo ERR-LINE >&2',
      'echo READY',
      'exec sleep 300',
    ].join('\n');
    const spec = leaseSpec('main', { env: { GREETING: 'hello world' }, command: ['sh', '-c', script] });
    const started = performance.now();
    mainId = await runtime.run(spec);
    timings.runReturned = Math.round(performance.now() - started);
    expect(mainId).toMatch(/^[a-f0-9]{64}$/);
    await waitFor('running', async () => ((await dockerInspect(mainId)).State.Running ? true : undefined));
    timings.runToRunning = Math.round(performance.now() - started);

    const raw = await dockerInspect(mainId);
    const host = raw.HostConfig;
    expect(host.CapDrop).toEqual(['ALL']);
    expect(host.CapAdd).toEqual(LEASE_CAPABILITIES.map((cap) => `CAP_${cap}`));
    expect(host.ShmSize).toBe(64 * MiB);
    const ulimits = await runtime.grantableUlimits();
    // Docker keeps ulimits in a map: their order in inspect output varies.
    expect([...host.Ulimits].sort((a: { Name: string }, b: { Name: string }) => a.Name.localeCompare(b.Name))).toEqual([
      { Name: 'memlock', Soft: ulimits.memlock, Hard: ulimits.memlock },
      { Name: 'nofile', Soft: ulimits.nofile, Hard: ulimits.nofile },
      { Name: 'stack', Soft: ulimits.stack, Hard: ulimits.stack },
    ]);
    expect(host.SecurityOpt).toEqual(['no-new-privileges']);
    expect(host.Privileged).toBe(false);
    expect(host.Binds).toBeNull();
    expect(host.Mounts ?? []).toEqual([]);
    expect(raw.Mounts).toEqual([]);
    expect(host.Tmpfs).toEqual({ '/tmp': `rw,exec,nosuid,nodev,size=${64 * MiB},mode=1777` });
    expect(host.Memory).toBe(64 * MiB);
    expect(host.MemorySwap).toBe(64 * MiB);
    expect(host.NanoCpus).toBe(500_000_000);
    expect(host.PidsLimit).toBe(64);
    expect(host.ReadonlyRootfs).toBe(true);
    expect(host.NetworkMode).toBe('none');
    expect(host.RestartPolicy.Name).toBe('no');
    expect(host.DeviceRequests ?? null).toBeNull();
    expect(host.LogConfig).toEqual({ Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } });
    expect(raw.Config.Labels).toEqual({ 'iocli.managed': 'true', 'iocli.lease': 'main', 'iocli.node': nodeId });
    expect(raw.Config.Env).toContain('GREETING=hello world');

    const out = await waitFor('READY', async () => {
      const logs = await docker(['logs', mainId]);
      return logs.stdout.includes('READY') ? logs.stdout : undefined;
    });
    expect(out).toContain('MOUNT=fail');
    expect(out).toContain('ROOTWRITE=fail');
    expect(out).toContain('SOCK=no');
    expect(out).toContain('TMPWRITE=ok');
    expect(out).toContain('ENV=hello world');
  });

  it('the argv the runtime passed is exactly buildRunArgs (no shell: spaces and quotes arrive intact)', async () => {
    const raw = await dockerInspect(mainId);
    const expected = buildRunArgs(leaseSpec('main', { command: ['sh', '-c', 'x'] }));
    expect(raw.Config.Image).toBe(expected[expected.indexOf('sh') - 1]);
    expect(raw.Path).toBe('sh');
    expect(raw.Args[0]).toBe('-c');
    expect(raw.Args[1]).toContain('echo "ENV=$GREETING"');
  });

  it('logs with tail return the last lines; stdout and stderr stay apart', async () => {
    const chunks: LogChunk[] = [];
    await runtime.logs(mainId, { tail: 2 }, (chunk) => chunks.push(chunk));
    const tailed = chunks.map((c) => c.text).join('');
    // The two streams are copied to the log concurrently, so which entries make the last two can vary;
    // dockerd 20.10 may also return one extra line. What must hold: the end is there, the start is cut.
    expect(tailed).toContain('READY\n');
    expect(tailed).not.toMatch(/MOUNT|ROOTWRITE|line-[0-2]/);

    const all: LogChunk[] = [];
    await runtime.logs(mainId, { since: '2000-01-01T00:00:00Z', timestamps: true }, (chunk) => all.push(chunk));
    const stdout = all.filter((c) => c.stream === 'stdout').map((c) => c.text).join('');
    const stderr = all.filter((c) => c.stream === 'stderr').map((c) => c.text).join('');
    expect(stdout).toMatch(/^\d{4}-\d\d-\d\dT\S+ MOUNT=fail$/m);
    expect(stdout).not.toContain('ERR-LINE');
    expect(stderr).toMatch(/^\S+ ERR-LINE\n$/);
    await expect(runtime.logs(mainId, { tail: -1 }, () => {})).rejects.toMatchObject({ code: 'LOGS_OPTIONS_INVALID' });
    await expect(runtime.logs(mainId, { since: '--all' }, () => {})).rejects.toMatchObject({ code: 'LOGS_OPTIONS_INVALID' });
  });

  it('logs follow streams new output until aborted', async () => {
    const id = await runtime.run(leaseSpec('follow', { command: ['sh', '-c', 'echo first; sleep 1; echo second; exec sleep 300'] }));
    const controller = new AbortController();
    const seen: Array<{ text: string; at: number }> = [];
    const started = performance.now();
    const following = runtime.logs(
      id,
      { follow: true },
      (chunk) => {
        seen.push({ text: chunk.text, at: performance.now() - started });
        if (seen.map((s) => s.text).join('').includes('second')) controller.abort();
      },
      controller.signal,
    );
    await expect(following).resolves.toBeUndefined();
    const text = seen.map((s) => s.text).join('');
    expect(text).toContain('first\n');
    expect(text).toContain('second\n');
    // 'second' arrived as its own, later chunk: the output was streamed, not collected at the end.
    const firstAt = seen.find((s) => s.text.includes('first'))!.at;
    const secondAt = seen.find((s) => s.text.includes('second'))!.at;
    expect(secondAt - firstAt).toBeGreaterThan(500);
    timings.followAbort = Math.round(performance.now() - started);
  });

  it('runs as a numeric non-root user with a writable /tmp on a read-only root', async () => {
    const id = await runtime.run(leaseSpec('nonroot', { user: { uid: 65534, gid: 65534 }, command: ['sh', '-c', 'id -u; id -g; touch /tmp/ok && echo TMP=ok; touch /x || echo ROOT=ro'] }));
    const exited = await waitFor('exit', async () => {
      const container = await runtime.inspect(id);
      return container.state === 'exited' ? container : undefined;
    });
    expect(exited.exitCode).toBe(0);
    // stdout only: docker interleaves the two streams in no guaranteed order (touch's error is on stderr).
    const stdout: string[] = [];
    await runtime.logs(id, {}, (chunk) => {
      if (chunk.stream === 'stdout') stdout.push(chunk.text);
    });
    expect(stdout.join('')).toBe('65534\n65534\nTMP=ok\nROOT=ro\n');
  });

  it('lease network with a port: its own network, published on 127.0.0.1 only, removed with the container', async () => {
    const spec = leaseSpec('web', { network: 'lease', ports: [8080], command: ['httpd', '-f', '-p', '8080', '-h', '/etc'] });
    const id = await runtime.run(spec);
    const raw = await dockerInspect(id);
    expect(raw.HostConfig.NetworkMode).toBe(`${spec.name}-net`);
    expect(Object.keys(raw.NetworkSettings.Networks)).toEqual([`${spec.name}-net`]);
    expect(await runtime.listManagedNetworks()).toEqual([{ name: `${spec.name}-net`, leaseId: 'web' }]);
    const bindings = raw.HostConfig.PortBindings['8080/tcp'];
    expect(bindings).toEqual([{ HostIp: '127.0.0.1', HostPort: '' }]);
    const published = await waitFor('port', async () => raw && (await dockerInspect(id)).NetworkSettings.Ports['8080/tcp']?.[0]);
    expect(published.HostIp).toBe('127.0.0.1');
    const body = await waitFor('httpd', async () => {
      try {
        const response = await fetch(`http://127.0.0.1:${published.HostPort}/passwd`);
        return await response.text();
      } catch {
        return undefined;
      }
    });
    expect(body).toContain('nobody:x:65534');
    await runtime.remove(id);
    expect((await docker(['network', 'inspect', `${spec.name}-net`])).code).not.toBe(0);
    expect(await runtime.listManagedNetworks()).toEqual([]);
  });

  it('reports exit codes and errors with stable codes', async () => {
    const id = await runtime.run(leaseSpec('exit3', { command: ['sh', '-c', 'exit 3'] }));
    const exited = await waitFor('exit', async () => {
      const container = await runtime.inspect(id);
      return container.state === 'exited' ? container : undefined;
    });
    expect(exited).toMatchObject({ exitCode: 3, running: false, leaseId: 'exit3', nodeId });
    expect(exited.finishedAt).toMatch(/^\d{4}-/);

    const conflict = await rejection(runtime.run(leaseSpec('exit3', { command: ['true'] })));
    expect(conflict).toBeInstanceOf(ExternalError);
    expect(conflict.code).toBe('CONTAINER_NAME_IN_USE');

    const missing = await rejection(runtime.run(leaseSpec('noimage', { image: `iocli-test/absent-${runId}:1` })));
    expect(missing).toBeInstanceOf(ExternalError);
    expect(missing.code).toBe('IMAGE_NOT_FOUND');
    expect((missing as ExternalError).command).toMatch(/^docker run -d --pull never /);

    const secret = await rejection(runtime.run(leaseSpec('secret', { image: `iocli-test/absent-${runId}:1`, env: { TOKEN: 'hunter2' } })));
    expect((secret as ExternalError).command).toContain('TOKEN=***');
    expect(JSON.stringify({ ...secret, message: secret.message })).not.toContain('hunter2');
  });

  it('listManaged returns only this node’s iocli containers', async () => {
    const list = await runtime.listManaged();
    const ids = list.map((c) => c.id);
    expect(ids).toContain(mainId);
    expect(ids).not.toContain(ownerId);
    expect(ids).not.toContain(otherNodeContainerId);
    expect(ids).not.toContain(spoofId);
    expect(list.every((c) => c.nodeId === nodeId && c.labels['iocli.managed'] === 'true')).toBe(true);
    const main = list.find((c) => c.id === mainId)!;
    expect(main).toMatchObject({ name: `iocli-${runId}-main`, leaseId: 'main', state: 'running', running: true, exitCode: null, image: TEST_IMAGE });
    expect(main.startedAt).toMatch(/^\d{4}-/);
    expect(await runtime.listManaged(`absent-${runId}`)).toEqual([]);
    await expect(runtime.listManaged('bad node')).rejects.toMatchObject({ code: 'CONTAINER_SPEC_INVALID' });
  });

  it('refuses every call on the owner’s containers, by id, short id or name', async () => {
    const refs = [ownerId, ownerId.slice(0, 12), ownerName, otherNodeContainerId, spoofId];
    for (const ref of refs) {
      for (const call of [
        () => runtime.stop(ref, 0),
        () => runtime.remove(ref),
        () => runtime.inspect(ref),
        () => runtime.logs(ref, { tail: 1 }, () => {}),
      ]) {
        const error = await rejection(call());
        expect(error).toBeInstanceOf(UserError);
        expect(error.code).toBe('CONTAINER_NOT_MANAGED');
      }
    }
    // A runtime of another node cannot touch this node's containers either.
    const other = createDockerRuntime({ nodeId: otherNodeId });
    expect((await rejection(other.stop(mainId, 0))).code).toBe('CONTAINER_NOT_MANAGED');
    expect((await rejection(runtime.run(leaseSpec('foreign', { nodeId: otherNodeId })))).code).toBe('CONTAINER_NOT_MANAGED');
    expect((await rejection(runtime.stop('--all', 0))).code).toBe('CONTAINER_ID_INVALID');

    for (const id of [ownerId, otherNodeContainerId, spoofId]) expect((await dockerInspect(id)).State.Running).toBe(true);
  });

  it('stop and remove a lease container; remove is idempotent', async () => {
    const started = performance.now();
    await runtime.stop(mainId, 1);
    timings.stop1s = Math.round(performance.now() - started);
    const stopped = await runtime.inspect(mainId);
    expect(stopped).toMatchObject({ state: 'exited', running: false });
    expect(stopped.exitCode).toBe(137); // sleep as PID 1 ignores SIGTERM: killed after the 1 s grace

    await runtime.remove(mainId);
    expect((await docker(['container', 'inspect', mainId])).code).not.toBe(0);
    await runtime.remove(mainId);
    expect((await rejection(runtime.stop(mainId, 0))).code).toBe('CONTAINER_NOT_FOUND');
    expect((await runtime.listManaged()).map((c) => c.id)).not.toContain(mainId);

    // remove also kills a running one.
    const running = (await runtime.listManaged()).find((c) => c.leaseId === 'follow')!;
    expect(running.running).toBe(true);
    await runtime.remove(running.id);
    expect((await runtime.listManaged()).map((c) => c.leaseId)).not.toContain('follow');
    expect((await dockerInspect(ownerId)).State.Running).toBe(true);
  });
});
