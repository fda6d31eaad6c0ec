// `iocli rent`: quote, confirm, pay, create the lease, and wait until the workload runs.
import type { CommandSpec } from './spec.js';

export interface RentOptions {
  gpus: string;
  model?: string;
  minVram?: string;
  region?: string;
  image?: string;
  cmd?: string;
  env: string[];
  port: string[];
  hours: string;
  maxPrice?: string;
  multiNode?: boolean;
  readOnlyRoot?: boolean;
  user?: string;
  /** False with --no-egress. */
  egress?: boolean;
  dryRun?: boolean;
  timeout: string;
  idempotencyKey?: string;
  follow?: boolean;
  interval?: string;
}

const collect = (value: string, previous: unknown) => [...((previous as string[] | undefined) ?? []), value];

export const rent: CommandSpec<RentOptions> = {
  path: 'rent',
  summary: 'Rent GPUs and run a container on them',
  description:
    'Rent GPUs for a fixed number of hours (never open-ended) and run a container image on them.\n' +
    'Shows the quote (price per hour, total, network fee) and asks to confirm; --yes skips the question.\n' +
    "Pays with the network's token from your wallet (a signed transfer the coordinator submits), then waits until\n" +
    'the container runs. A retry of the same command with the same --idempotency-key never pays twice.\n' +
    'A container that exits by itself is a finished job: exit code 0 completes the lease, and unused time is refunded.\n' +
    "With --follow, rent streams the container's output until it ends and exits with its exit code, like `docker run`.",
  options: [
    { flags: '--gpus <n>', description: 'number of GPUs', defaultValue: '1' },
    { flags: '--model <name>', description: 'GPU model, e.g. H100 or 4090 (substring match)' },
    { flags: '--min-vram <GB>', description: 'at least this much memory per GPU, in GB' },
    { flags: '--region <name>', description: 'only nodes in this region' },
    { flags: '--image <ref>', description: 'container image, e.g. pytorch/pytorch:2.3.0 (asked for on a TTY)' },
    { flags: '--cmd <command>', description: 'command to run in the container (split like a shell would, but no shell runs it)' },
    { flags: '--env <NAME=value>', description: 'environment variable for the container (repeatable)', parse: collect, defaultValue: [] },
    { flags: '--port <port>', description: 'container port to expose (repeatable)', parse: collect, defaultValue: [] },
    { flags: '--hours <h>', description: 'lease length in whole hours, 1-720', defaultValue: '1' },
    { flags: '--max-price <tokens>', description: 'refuse (exit 4) if the price per GPU-hour is above this, in tokens' },
    { flags: '--multi-node', description: 'allow the GPUs to span several nodes when no single node has enough' },
    {
      flags: '--read-only-root',
      description: "run the container with a read-only root filesystem and a writable /tmp (tmpfs, counted in the memory limit); only for images that write nowhere else",
    },
    { flags: '--user <uid:gid>', description: "run the container as this numeric non-root user (default: the image's user, usually root)" },
    { flags: '--no-egress', description: 'give the container no route out (no internet); the rig\'s LAN and services are never reachable either way' },
    { flags: '--dry-run', description: 'quote, build and simulate the payment, but send nothing' },
    { flags: '--timeout <seconds>', description: 'how long to wait for the container to run (0: do not wait)', defaultValue: '300' },
    { flags: '--idempotency-key <key>', description: 'reuse a key from an earlier attempt so a retry never pays twice (default: a new key)' },
    { flags: '-f, --follow', description: "stream the container's output until it ends, then exit with its exit code (a batch job)" },
    { flags: '--interval <ms>', description: 'polling interval with --follow', defaultValue: '1000', hidden: true },
  ],
  examples: [
    'iocli rent --gpus 8 --model H100 --hours 2 --image pytorch/pytorch:2.3.0 --cmd "python train.py" --yes',
    'iocli rent --gpus 1 --image jupyter/base-notebook --port 8888 --env TOKEN=secret --max-price 1.5',
    'iocli rent --gpus 16 --model H100 --multi-node --image my/trainer:latest --dry-run --json',
    'iocli rent --gpus 1 --image my/inference:1.0 --read-only-root --yes',
    'iocli rent --gpus 1 --image my/trainer:latest --cmd "python train.py --epochs 3" --hours 2 --yes --follow',
    'iocli rent --gpus 1 --image my/sshd:latest --port 22 --user 1000:1000 --no-egress',
  ],
  async run(_args, options, ctx) {
    const { runRent } = await import('./rent-run.js');
    return runRent(options, ctx);
  },
};
