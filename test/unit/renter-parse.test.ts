// The renter's flag parsers: --env, --port, --hours, --max-price, --cmd, --idempotency-key, and argv → rent options.
import { describe, expect, it } from 'vitest';
import { parseRentOptions } from '../../commands/rent.js';
import { UsageError } from '../../src/errors.js';
import { parseEnvPairs, parseHours, parsePorts, parsePositiveInt, parseUser, splitCommand, validateIdempotencyKey, vramFlagToMb } from '../../src/renter/parse.js';

describe('parseEnvPairs', () => {
  it.each([
    [[], {}],
    [['A=1'], { A: '1' }],
    [['A=1', 'B=x=y'], { A: '1', B: 'x=y' }],
    [['EMPTY='], { EMPTY: '' }],
    [['A=1', 'A=2'], { A: '2' }],
    [['_under9=v'], { _under9: 'v' }],
  ])('%j → %j', (pairs, expected) => {
    expect(parseEnvPairs(pairs)).toEqual(expected);
  });

  it.each([['NOEQUALS'], ['=value'], ['9A=x'], ['A-B=x'], ['A B=x']])('rejects %j naming --env', (pair) => {
    expect(() => parseEnvPairs([pair])).toThrow(UsageError);
    expect(() => parseEnvPairs([pair])).toThrow(/--env/);
  });
});

describe('parsePorts', () => {
  it.each([
    [[], []],
    [['8080'], [8080]],
    [['8888', '22', '8888'], [22, 8888]],
    [['80,443'], [80, 443]],
    [['65535', '1'], [1, 65535]],
  ])('%j → %j', (values, expected) => {
    expect(parsePorts(values)).toEqual(expected);
  });

  it.each([['0'], ['65536'], ['http'], ['80.5'], ['-1'], ['']])('rejects %j naming --port', (value) => {
    expect(() => parsePorts([value])).toThrow(/Invalid --port/);
  });
});

describe('numbers', () => {
  it.each([
    ['1', 1],
    ['720', 720],
    [' 24 ', 24],
  ])('parseHours(%j) = %d', (text, hours) => expect(parseHours(text)).toBe(hours));

  it.each([['0'], ['721'], ['1.5'], ['-2'], ['forever'], ['']])('parseHours rejects %j (never open-ended)', (text) => {
    expect(() => parseHours(text)).toThrow(/--hours/);
  });

  it('parsePositiveInt names the flag and the range', () => {
    expect(() => parsePositiveInt('0', '--gpus', 1024)).toThrow(/Invalid --gpus "0"/);
    expect(parsePositiveInt('8', '--gpus', 1024)).toBe(8);
  });

  it.each([
    ['80', 80_000],
    ['24', 24_000],
    ['0.5', 500],
  ])('--min-vram %s GB → %d MB (decimal GB matches cards sold as that size)', (gb, mb) => expect(vramFlagToMb(gb)).toBe(mb));
});

describe('splitCommand', () => {
  it.each([
    ['python train.py', ['python', 'train.py']],
    ['  a   b  ', ['a', 'b']],
    [`sh -c "echo hi; sleep 1"`, ['sh', '-c', 'echo hi; sleep 1']],
    [`echo 'single quoted' "double \\"q\\""`, ['echo', 'single quoted', 'double "q"']],
    [`echo ""`, ['echo', '']],
    ['a\\ b', ['a b']],
  ])('%j → %j', (text, argv) => expect(splitCommand(text)).toEqual(argv));

  it('rejects an unbalanced quote', () => expect(() => splitCommand('echo "oops')).toThrow(/Unbalanced/));
});

describe('validateIdempotencyKey', () => {
  it.each([['0b6f3c1e-0c7c-4b8a-9a63-3f2d1c0b9a88'], ['retry-2024-06-01'], ['a.b:c_d-e']])('accepts %j', (key) => expect(validateIdempotencyKey(key)).toBe(key));
  it.each([['short'], ['has space in it'], ['x'.repeat(101)]])('rejects %j', (key) => expect(() => validateIdempotencyKey(key)).toThrow(/--idempotency-key/));
});

describe('parseRentOptions', () => {
  const base = { gpus: '1', env: [], port: [], hours: '1', timeout: '300' };

  it('builds the quote request from flags', () => {
    const parsed = parseRentOptions({
      ...base, gpus: '8', model: 'H100', image: 'pytorch/pytorch:2.3.0', cmd: 'python train.py --epochs 3', env: ['A=1'], port: ['8888'], hours: '2', multiNode: true, minVram: '80', maxPrice: '2.5',
    });
    expect(parsed).toEqual({
      request: {
        gpus: 8,
        model: 'H100',
        minVram: 80_000,
        region: undefined,
        hours: 2,
        multiNode: true,
        image: 'pytorch/pytorch:2.3.0',
        command: ['python', 'train.py', '--epochs', '3'],
        env: { A: '1' },
        ports: [8888],
      },
      maxPriceText: '2.5',
      dryRun: false,
      timeoutMs: 300_000,
      follow: false,
      followIntervalMs: 1000,
    });
  });

  it('carries --user and --no-egress only when given', () => {
    expect(parseRentOptions(base).request).not.toHaveProperty('user');
    expect(parseRentOptions(base).request).not.toHaveProperty('egress');
    expect(parseRentOptions({ ...base, user: '1000:100', egress: false }).request).toMatchObject({ user: { uid: 1000, gid: 100 }, egress: false });
    expect(parseRentOptions({ ...base, egress: true }).request).not.toHaveProperty('egress');
  });

  it.each([
    ['1000:1000', { uid: 1000, gid: 1000 }],
    [' 65534:65534 ', { uid: 65534, gid: 65534 }],
    ['2147483647:1', { uid: 2_147_483_647, gid: 1 }],
  ])('--user %j → %j', (text, user) => {
    expect(parseUser(text)).toEqual(user);
  });

  it.each(['0:0', '1000:0', '0:1000', 'root', 'jovyan:users', '1000', '1000:', ':1000', '-1:5', '1.5:2', '2147483648:1', '1000:1000:1'])('--user %j is refused', (text) => {
    expect(() => parseUser(text)).toThrow(UsageError);
    expect(() => parseUser(text)).toThrow(/--user/);
  });

  it('asks for a read-only root only with --read-only-root', () => {
    expect(parseRentOptions(base).request).not.toHaveProperty('readOnlyRoot');
    expect(parseRentOptions({ ...base, readOnlyRoot: true }).request.readOnlyRoot).toBe(true);
  });

  it('keeps a given idempotency key so a retry reuses it', () => {
    expect(parseRentOptions({ ...base, idempotencyKey: 'my-retry-key-1' }).idempotencyKey).toBe('my-retry-key-1');
  });

  it('leaves a fresh key to run (parsing stays pure): none is made up here', () => {
    expect(parseRentOptions(base)).not.toHaveProperty('idempotencyKey');
  });

  it.each([
    [{ gpus: '0' }, /--gpus/],
    [{ hours: '0' }, /--hours/],
    [{ image: 'bad image' }, /--image/],
    [{ image: 'x;rm -rf /' }, /--image/],
    [{ cmd: '   ' }, /--cmd is empty/],
    [{ timeout: 'soon' }, /--timeout/],
    [{ env: ['1=2'] }, /--env/],
  ])('rejects %j before any network call', (override, message) => {
    expect(() => parseRentOptions({ ...base, ...override } as never)).toThrow(message);
  });
});
