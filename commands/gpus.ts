// `iocli gpus`: what this machine could offer — host summary and every GPU the NVIDIA driver reports.
import type { HumanRenderer } from './output.js';
import type { CommandSpec } from './spec.js';
import type { Inventory } from '../src/gpu/inventory.js';

export const gpus: CommandSpec<Record<string, never>> = {
  path: 'gpus',
  summary: 'Show this machine\'s GPUs (model, memory, load, driver, UUID) and host resources',
  description:
    'Detects NVIDIA GPUs with nvidia-smi and host resources (CPU, memory, disk) with systeminformation. ' +
    'A machine without GPUs is not an error: the list is empty and the reason is shown. ' +
    'A GPU with MIG enabled is listed with its MIG instances; iocli offers whole GPUs only, so it is not offered. ' +
    'A broken driver (version mismatch after an upgrade, module not loaded) exits with code 3 and says how to fix it.',
  examples: ['iocli gpus', 'iocli gpus --json', "iocli gpus --json | jq -r '.gpus[].uuid'"],
  parse: () => ({}),
  async run(_options, ctx) {
    const { detectInventory } = await import('../src/gpu/inventory.js');
    const spinner = await ctx.out.spinner('Detecting GPUs');
    let inventory: Inventory;
    try {
      inventory = await detectInventory({ signal: ctx.signal });
    } catch (error) {
      spinner.fail('GPU detection failed');
      throw error;
    }
    spinner.stop();
    return { data: inventory, human: (r) => renderInventory(inventory, r) };
  },
};

const GIB = 1024 ** 3;
const gib = (bytes: number | null): string => (bytes === null ? '-' : `${(bytes / GIB).toFixed(1)} GiB`);
const mibAsGib = (mb: number | null): string => (mb === null ? '-' : `${(mb / 1024).toFixed(1)} GiB`);
const unit = (value: number | null, suffix: string): string => (value === null ? '-' : `${Math.round(value)}${suffix}`);

/** People's view of an inventory: host facts, then one table row per GPU, then any diagnosis. */
export function renderInventory(inventory: Inventory, r: HumanRenderer): void {
  const { host } = inventory;
  r.keyValues([
    ['Host', host.hostname],
    ['OS', `${host.os} (kernel ${host.kernel}, ${host.arch})`],
    ['CPU', `${host.cpu.model}, ${host.cpu.cores} cores`],
    ['Memory', gib(host.memoryBytes)],
    ['Disk free', gib(host.diskFreeBytes)],
    ['Driver', inventory.driver ?? undefined],
    ['CUDA', inventory.cuda ?? undefined],
  ]);
  r.line();
  if (inventory.gpus.length > 0) {
    r.table(
      ['#', 'Model', 'VRAM', 'Used', 'Util', 'Temp', 'Power', 'Driver/CUDA', 'UUID'],
      inventory.gpus.map((gpu) => [
        gpu.index,
        gpu.model === 'unknown' ? gpu.name : gpu.model,
        mibAsGib(gpu.vramMb),
        mibAsGib(gpu.vramUsedMb),
        unit(gpu.utilizationGpu, '%'),
        unit(gpu.temperatureC, '°C'),
        gpu.powerW === null && gpu.powerLimitW === null ? '-' : `${unit(gpu.powerW, '')}/${unit(gpu.powerLimitW, '')} W`,
        `${gpu.driver ?? '-'} / ${gpu.cuda ?? '-'}`,
        gpu.uuid,
      ]),
    );
    const mig = inventory.gpus.flatMap((gpu) => gpu.migDevices.map((device) => ({ gpu, device })));
    if (mig.length > 0) {
      r.line();
      r.line('MIG instances (not offered: iocli offers whole GPUs only):');
      r.table(
        ['GPU', 'MIG', 'Profile', 'VRAM', 'UUID'],
        mig.map(({ gpu, device }) => [gpu.index, device.index, device.profile, mibAsGib(device.memoryMb), device.uuid]),
      );
    }
  } else {
    r.line(r.colors.yellow('No usable GPU on this machine.'));
  }
  if (inventory.unavailableFields.length > 0) {
    r.line(r.colors.dim(`This driver does not report ${inventory.unavailableFields.join(', ')}: shown as -.`));
  }
  for (const gpu of inventory.unmanagedGpus) {
    r.line(r.colors.dim(`Not managed by the driver: ${gpu.name} at ${gpu.pciBus ?? 'unknown PCI address'}`));
  }
  if (inventory.diagnosis) r.line(inventory.diagnosis);
}
