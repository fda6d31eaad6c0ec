// `iocli provide kernel-image`: get the challenge kernel image real GPUs answer challenges with onto this machine ahead of
// time (present → nothing; else pull; else build from the Dockerfile shipped with iocli), so the first challenge does not
// spend minutes on it. The same steps the agent takes on its first challenge (src/provider/challenge-kernel-image.ts).
import { resolve } from 'node:path';
import type { HumanRenderer } from '../output.js';
import type { CommandSpec } from '../spec.js';
import { parseImageRef } from '../../src/domain/image-ref.js';
import { UsageError, type UserError } from '../../src/errors.js';
import { challengeImage } from './start.js';

export interface ProvideKernelImageOptions {
  image: string;
  /** Build without trying to pull first. */
  build: boolean;
  /** A build folder instead of the shipped src/provider/challenge-kernel. */
  context?: string;
}

export const provideKernelImage: CommandSpec<ProvideKernelImageOptions> = {
  path: 'provide kernel-image',
  summary: 'Pull, or else build, the challenge kernel image real GPUs answer challenges with, ahead of the first challenge',
  description:
    'Real GPUs answer the coordinator\'s challenges with a kernel in a container. When its image is not on this machine the ' +
    'agent pulls it, or else builds it from the Dockerfile shipped with iocli, on the first challenge (minutes: the base ' +
    'image is large). This does it now. The image is IOCLI_CHALLENGE_IMAGE, else the default; --image picks another (give the ' +
    'agent the same one through IOCLI_CHALLENGE_IMAGE).',
  options: [
    { flags: '--image <ref>', description: 'the image to prepare (default: IOCLI_CHALLENGE_IMAGE, else the built-in one)' },
    { flags: '--build', description: 'build from the Dockerfile without trying to pull first' },
    { flags: '--context <dir>', description: 'build from this folder instead of the Dockerfile shipped with iocli' },
  ],
  examples: ['iocli provide kernel-image', 'iocli provide kernel-image --build', 'iocli provide kernel-image --json'],
  parse: ({ flags, env }) => {
    const image = flags.image !== undefined ? String(flags.image) : challengeImage(env);
    try {
      parseImageRef(image);
    } catch (error) {
      throw new UsageError((error as Error).message, { hint: (error as UserError).hint });
    }
    return { image, build: flags.build === true, ...(flags.context !== undefined ? { context: resolve(String(flags.context)) } : {}) };
  },
  async run(options, ctx) {
    const { ensureKernelImage } = await import('../../src/provider/challenge-kernel-image.js');
    const spinner = await ctx.out.spinner(`Challenge kernel image ${options.image}: looking for it`);
    let result: Awaited<ReturnType<typeof ensureKernelImage>>;
    try {
      result = await ensureKernelImage({
        image: options.image,
        skipPull: options.build,
        ...(options.context ? { buildContext: options.context } : {}),
        signal: ctx.signal,
        onStep: (step) => {
          if (step.state === 'pulling') spinner.update(`Pulling ${step.image}`);
          else if (step.state === 'building') {
            spinner.update(`Building ${step.image} from ${step.context} (pull: ${step.pullError}); this takes minutes`);
            ctx.out.info(`Running: ${step.command}`);
          } else if (step.state === 'build-progress') spinner.update(`Building ${step.image}: ${step.line}`);
        },
      });
    } catch (error) {
      spinner.fail();
      throw error;
    }
    spinner.succeed(`Challenge kernel image ${result.image}: ${result.source === 'present' ? 'already here' : `${result.source} in ${(result.ms / 1000).toFixed(1)} s`}`);
    return {
      data: result,
      human: (r: HumanRenderer) => {
        r.keyValues([
          ['Image', result.image],
          ['Source', result.source === 'present' ? 'already here' : result.source],
          ['Took', `${(result.ms / 1000).toFixed(1)} s`],
          ['Pull', result.pullError ? `failed: ${result.pullError}` : undefined],
          ['Built from', result.buildContext],
        ]);
      },
    };
  },
};
