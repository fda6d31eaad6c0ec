// The systemd unit `iocli provide install-service` writes, and the agent's data directory identity.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildServiceUnit, defaultServicePath, systemctlCommands, systemdQuote } from '../../src/provider/service-unit.js';
import { deriveMachineId, readAgentState, resolveMachineId, writeAgentState } from '../../src/provider/data-dir.js';
import { describeAgentEvent } from '../../src/provider/describe-event.js';

describe('systemd unit', () => {
  it('runs the absolute node and bin paths with the same flags, restarts always, after docker', () => {
    const unit = buildServiceUnit({
      nodePath: '/usr/bin/node',
      binPath: '/opt/iocli/bin/iocli.js',
      args: ['provide', '--gpus', '0,1', '--price', '2.5', '--region', 'eu-west', '--keypair', '/home/a b/id.json', '--yes'],
      env: { IOCLI_CONFIG_DIR: '/etc/iocli' },
      user: false,
      runAs: 'gpu',
    });
    expect(unit).toContain('ExecStart=/usr/bin/node /opt/iocli/bin/iocli.js provide --gpus 0,1 --price 2.5 --region eu-west --keypair "/home/a b/id.json" --yes');
    expect(unit).toMatch(/^Restart=always$/m);
    expect(unit).toMatch(/^After=.*docker\.service/m);
    expect(unit).toMatch(/^User=gpu$/m);
    expect(unit).toContain('Environment=IOCLI_CONFIG_DIR=/etc/iocli');
    expect(unit).toMatch(/^WantedBy=multi-user\.target$/m);
  });

  it('user units go to ~/.config/systemd/user and use systemctl --user', () => {
    expect(defaultServicePath(true, {}, '/home/u')).toBe('/home/u/.config/systemd/user/iocli-provider.service');
    expect(defaultServicePath(false, {}, '/home/u')).toBe('/etc/systemd/system/iocli-provider.service');
    expect(systemctlCommands(true, '/x/iocli-provider.service')[1]).toBe('systemctl --user enable --now iocli-provider.service');
    expect(buildServiceUnit({ nodePath: '/n', binPath: '/b', args: [], user: true })).toMatch(/^WantedBy=default\.target$/m);
  });

  it('quotes for systemd: spaces, quotes and % specifiers', () => {
    expect(systemdQuote('plain/path-1.json')).toBe('plain/path-1.json');
    expect(systemdQuote('50%')).toBe('50%%');
    expect(systemdQuote('a "b"')).toBe('"a \\"b\\""');
  });
});

describe('agent data directory', () => {
  it('derives a stable machine id per host and owner, stores it, and honours --machine-id', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'iocli-dd-'));
    try {
      const hostFile = join(dir, 'host-id');
      await writeFile(hostFile, 'abc123\n');
      const first = await resolveMachineId({ dataDir: join(dir, 'data'), owner: 'OwnerA', hostIdPaths: [hostFile] });
      expect(first).toBe(deriveMachineId('abc123', 'OwnerA'));
      // Stored: a changed host id no longer matters for this data directory.
      await writeFile(hostFile, 'changed\n');
      expect(await resolveMachineId({ dataDir: join(dir, 'data'), owner: 'OwnerA', hostIdPaths: [hostFile] })).toBe(first);
      expect(await resolveMachineId({ dataDir: join(dir, 'data'), owner: 'OwnerB', hostIdPaths: [hostFile] })).not.toBe(first);
      expect(await resolveMachineId({ dataDir: join(dir, 'data'), owner: 'OwnerA', override: 'box-2' })).toBe('box-2');
      await expect(resolveMachineId({ dataDir: dir, owner: 'x', override: 'bad id' })).rejects.toThrow(/--machine-id/);
      expect(JSON.parse(await readFile(join(dir, 'data', 'machine-id'), 'utf8'))).toHaveProperty('OwnerA', first);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('round-trips state and survives a damaged file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'iocli-dd-'));
    try {
      expect(await readAgentState(dir)).toEqual({ logCursors: {} });
      await writeAgentState(dir, { nodeId: 'node_1', logCursors: { L1: '2025-01-01T00:00:00.000000000Z' } });
      expect(await readAgentState(dir)).toMatchObject({ nodeId: 'node_1', logCursors: { L1: '2025-01-01T00:00:00.000000000Z' } });
      await writeFile(join(dir, 'state.json'), '{broken');
      expect(await readAgentState(dir)).toEqual({ logCursors: {} });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('agent event lines', () => {
  it('labels simulated registrations and stays quiet for heartbeats', () => {
    expect(describeAgentEvent({ type: 'registered', nodeId: 'n', machineId: 'm', gpus: 2, simulated: true })?.text).toMatch(/SIMULATED/);
    expect(describeAgentEvent({ type: 'heartbeat', assignments: 0, running: 0, latencyMs: 1 })).toBeUndefined();
    expect(describeAgentEvent({ type: 'container-exited', leaseId: 'L', containerId: 'c', exitCode: 3, oomKilled: false })?.level).toBe('warn');
  });

  it('says clearly when the challenge kernel image is being built, from where, and when it is ready', () => {
    const building = describeAgentEvent({ type: 'kernel-image', state: 'building', image: 'k:1', context: '/pkg/ctx', command: 'docker build --force-rm -t k:1 /pkg/ctx', pullError: 'manifest unknown' });
    expect(building).toEqual({ level: 'warn', text: expect.stringMatching(/^Could not pull the challenge kernel image k:1 \(manifest unknown\): building it from \/pkg\/ctx \(docker build --force-rm -t k:1 \/pkg\/ctx\); this takes minutes/) });
    expect(describeAgentEvent({ type: 'kernel-image', state: 'build-progress', image: 'k:1', line: 'Step 2/5 : RUN pip install' })?.text).toBe('Building k:1: Step 2/5 : RUN pip install');
    expect(describeAgentEvent({ type: 'kernel-image', state: 'ready', image: 'k:1', source: 'built', ms: 183_400 })?.text).toBe('Challenge kernel image k:1 built in 183.4 s');
  });
});
