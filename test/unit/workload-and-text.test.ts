// The shared workload rules (CLI, coordinator, agent) and the terminal sanitiser, as tables.
import { describe, expect, it } from 'vitest';
import { workloadProblems } from '../../src/domain/workload.js';
import { isPrintableLabel, toTerminalText } from '../../src/domain/text.js';
import { quoteRequestSchema } from '../../src/api/schemas/leases.js';

const ok = { image: 'pytorch/pytorch:2.3.0', command: ['python', 'train.py', '--epochs=3'], env: { HF_TOKEN: 'x=y', EMPTY: '' }, ports: [8888] };

describe('workloadProblems', () => {
  it('accepts a plain workload', () => {
    expect(workloadProblems(ok)).toEqual([]);
  });

  it.each([
    ['a NUL in an env value', { env: { KEY: 'a\u0000b' } }, 'env.KEY', /NUL/],
    ['a NUL in a command argument', { command: ['sh', '-c', 'echo\u0000'] }, 'command.2', /NUL/],
    ['an env name with =', { env: { 'A=B': 'x' } }, 'env.A=B', /letters, digits/],
    ['an env name starting with a digit', { env: { '1A': 'x' } }, 'env.1A', /letters, digits/],
    ['an env value too long', { env: { A: 'x'.repeat(4097) } }, 'env.A', /longer than 4096/],
    ['an argument too long', { command: ['x'.repeat(4097)] }, 'command.0', /longer than 4096/],
    ['too many arguments', { command: Array.from({ length: 257 }, () => 'a') }, 'command', /more than 256/],
    ['an uppercase image (docker refuses it)', { image: 'PyTorch/PyTorch:2' }, 'image', /lowercase/],
    ['an image starting with -', { image: '--privileged' }, 'image', /option/],
    ['a port out of range', { ports: [70000] }, 'ports.0', /1 to 65535/],
    ['a port twice', { ports: [80, 80] }, 'ports', /twice/],
  ])('refuses %s', (_what, change, path, message) => {
    const problems = workloadProblems({ ...ok, ...change });
    expect(problems.map((p) => p.path)).toContain(path);
    expect(problems.find((p) => p.path === path)!.message).toMatch(message);
  });

  it('is what the quote schema applies (400 on the wire)', () => {
    const result = quoteRequestSchema.safeParse({ gpus: 1, ...ok, env: { KEY: 'a\u0000b' } });
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => i.path.join('.'))).toContain('env.KEY');
    expect(quoteRequestSchema.safeParse({ gpus: 1, ...ok }).success).toBe(true);
  });
});

describe('labels', () => {
  it.each([
    ['RTX 4090', true],
    ['eu-west', true],
    ['München', true],
    ['a\u0000b', false],
    ['\u001b]0;x\u0007', false],
    ['tab\there', false],
    ['C1\u009bcsi', false],
    ['bidi\u202eoverride', false],
  ])('%j printable: %s', (text, printable) => {
    expect(isPrintableLabel(text)).toBe(printable);
  });
});

describe('toTerminalText', () => {
  it.each([
    ['plain text', {}, 'plain text'],
    ['title \u001b]0;owned\u0007', {}, 'title \\x1b]0;owned\\x07'],
    ['clear \u001b[2J', {}, 'clear \\x1b[2J'],
    ['C1 CSI \u009b2J', {}, 'C1 CSI \\x9b2J'],
    ['nul \u0000 here', {}, 'nul \\x00 here'],
    ['bidi \u202e', {}, 'bidi \\u202e'],
    ['two\nlines\r\n', {}, 'two\\x0alines\\x0d\\x0a'],
    ['two\nlines\r\n', { multiline: true }, 'two\nlines\n'],
    ['over\rwrite', { multiline: true }, 'over\\x0dwrite'],
    ['\u001b[32mgreen\u001b[39m', { keepOwnColors: true }, '\u001b[32mgreen\u001b[39m'],
    ['\u001b[8mhidden\u001b[0m', { keepOwnColors: true }, '\\x1b[8mhidden\\x1b[0m'],
    ['\u001b[2J', { keepOwnColors: true }, '\\x1b[2J'],
  ] as const)('%j %j', (input, options, expected) => {
    expect(toTerminalText(input, options)).toBe(expected);
  });
});
