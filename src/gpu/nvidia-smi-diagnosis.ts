// What a failed nvidia-smi run means: no driver tools, no GPU, or a broken driver with the fix to try. Pure, so every
// recorded failure is a table test.
import { refusedQueryField } from './nvidia-smi-query.js';

export interface NvidiaSmiRun {
  /** Spawn error code, e.g. 'ENOENT' when the binary is not on PATH. */
  spawnError?: string;
  exitCode?: number;
  timedOut?: boolean;
  stdout: string;
  stderr: string;
}

export type NvidiaSmiDiagnosis =
  | { kind: 'missing'; message: string; hint: string }
  | { kind: 'no-devices'; message: string }
  | { kind: 'failed'; code: string; message: string; hint: string };

/**
 * What a failed nvidia-smi run means. 'missing' and 'no-devices' are states of a machine without usable GPUs (not errors);
 * 'failed' is a broken driver that the user must fix. nvidia-smi prints its errors on stdout, so both streams are read.
 */
export function diagnoseNvidiaSmiFailure(run: NvidiaSmiRun): NvidiaSmiDiagnosis {
  const output = `${run.stdout}\n${run.stderr}`;
  if (run.spawnError === 'ENOENT') {
    return {
      kind: 'missing',
      message: 'No NVIDIA driver tools: nvidia-smi is not installed or not on PATH.',
      hint: 'Install the NVIDIA driver (it ships nvidia-smi), e.g. `sudo apt install nvidia-driver` or `sudo ubuntu-drivers install`, then reboot.',
    };
  }
  if (/No devices were found/i.test(output)) return { kind: 'no-devices', message: 'The NVIDIA driver is installed but found no GPU.' };
  if (/Driver\/library version mismatch/i.test(output)) {
    const nvml = /NVML library version:\s*([\d.]+)/i.exec(output)?.[1];
    return {
      kind: 'failed',
      code: 'NVIDIA_DRIVER_MISMATCH',
      message: `NVIDIA driver/library version mismatch${nvml ? ` (user-space NVML ${nvml})` : ''}: the loaded kernel module is older than the installed driver.`,
      hint: 'This usually follows a driver upgrade without a reboot. Reboot, or unload and reload the modules: `sudo rmmod nvidia_uvm nvidia_drm nvidia_modeset nvidia && sudo modprobe nvidia`.',
    };
  }
  if (/couldn't communicate with the NVIDIA driver|NVIDIA driver is not loaded/i.test(output)) {
    return {
      kind: 'failed',
      code: 'NVIDIA_DRIVER_NOT_LOADED',
      message: 'nvidia-smi could not communicate with the NVIDIA driver: the kernel module is not loaded.',
      hint: 'Check `lsmod | grep nvidia` and `dmesg | grep -i nvidia`. Load it with `sudo modprobe nvidia`; if that fails (Secure Boot, a kernel update without DKMS), reinstall the driver for the running kernel and reboot.',
    };
  }
  if (/NVML Shared Library Not Found|libnvidia-ml\.so/i.test(output)) {
    return {
      kind: 'failed',
      code: 'NVIDIA_NVML_MISSING',
      message: 'nvidia-smi cannot load the NVML library (libnvidia-ml.so): the driver installation is incomplete.',
      hint: 'Reinstall the NVIDIA driver package for your distribution, then reboot.',
    };
  }
  if (/fallen off the bus|GPU is lost|Unknown Error/i.test(output)) {
    return {
      kind: 'failed',
      code: 'NVIDIA_GPU_LOST',
      message: 'A GPU stopped responding to the driver (it has fallen off the bus or reports an unknown error).',
      hint: 'Check `dmesg | grep -i xid` for the cause; a reboot brings it back, repeated failures point at power, cooling or the riser/slot.',
    };
  }
  const refused = refusedQueryField(output);
  if (refused) {
    return {
      kind: 'failed',
      code: 'NVIDIA_SMI_FIELD_REFUSED',
      message: `This driver's nvidia-smi does not know the query field "${refused}", which iocli cannot do without.`,
      hint: 'Report the output of `nvidia-smi --version` and `nvidia-smi --help-query-gpu` to the iocli maintainers; updating the driver may help meanwhile.',
    };
  }
  if (run.timedOut) {
    return {
      kind: 'failed',
      code: 'NVIDIA_SMI_TIMEOUT',
      message: 'nvidia-smi did not answer in time: the driver may be hung.',
      hint: 'Check `dmesg | grep -i nvidia`; enabling persistence mode (`sudo nvidia-smi -pm 1`) speeds up queries. A hung driver needs a reboot.',
    };
  }
  const firstLine = output.split('\n').map((l) => l.trim()).find(Boolean);
  return {
    kind: 'failed',
    code: 'NVIDIA_SMI_FAILED',
    message: `nvidia-smi failed${run.exitCode !== undefined ? ` with exit code ${run.exitCode}` : ''}${firstLine ? `: ${firstLine}` : '.'}`,
    hint: 'Run `nvidia-smi` yourself to see the full message; reinstalling or reloading the driver fixes most failures.',
  };
}
