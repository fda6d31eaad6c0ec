// Table tests for image reference validation.
import { describe, expect, it } from 'vitest';
import { isValidImageRef, parseImageRef } from '../../src/domain/image-ref.js';
import { UserError } from '../../src/errors.js';

const DIGEST = `sha256:${'a1'.repeat(32)}`;

describe('parseImageRef: accepts', () => {
  it.each([
    ['busybox', { repository: 'busybox' }],
    ['busybox:latest', { repository: 'busybox', tag: 'latest' }],
    ['library/busybox:1.36', { repository: 'library/busybox', tag: '1.36' }],
    ['nvidia/cuda:12.4.1-runtime-ubuntu22.04', { repository: 'nvidia/cuda', tag: '12.4.1-runtime-ubuntu22.04' }],
    ['iocli-test/busybox:latest', { repository: 'iocli-test/busybox', tag: 'latest' }],
    ['ghcr.io/org/team/app:v1', { registry: 'ghcr.io', repository: 'org/team/app', tag: 'v1' }],
    ['localhost:5000/app', { registry: 'localhost:5000', repository: 'app' }],
    ['localhost/app', { registry: 'localhost', repository: 'app' }],
    ['127.0.0.1:5000/a/b:TAG_Upper', { registry: '127.0.0.1:5000', repository: 'a/b', tag: 'TAG_Upper' }],
    ['My-Registry.example.com/app', { registry: 'My-Registry.example.com', repository: 'app' }],
    [`busybox@${DIGEST}`, { repository: 'busybox', digest: DIGEST }],
    [`reg.io:443/x/y:1@${DIGEST}`, { registry: 'reg.io:443', repository: 'x/y', tag: '1', digest: DIGEST }],
    ['a__b/c-d/e---f/g.h/i_j', { repository: 'a__b/c-d/e---f/g.h/i_j' }],
    [`a:${'t'.repeat(128)}`, { repository: 'a', tag: 't'.repeat(128) }],
    [`${'a'.repeat(255)}`, { repository: 'a'.repeat(255) }],
  ])('%s', (ref, expected) => {
    expect(parseImageRef(ref)).toEqual({ raw: ref, registry: undefined, tag: undefined, digest: undefined, ...expected });
    expect(isValidImageRef(ref)).toBe(true);
  });
});

describe('parseImageRef: rejects', () => {
  it.each([
    ['', /empty/],
    [' busybox', /whitespace/],
    ['busybox latest', /whitespace/],
    ['busybox\n', /whitespace/],
    ['busy\tbox', /whitespace/],
    ['-busybox', /starts with '-'/],
    ['--privileged', /starts with '-'/],
    ['busybox;rm', /not allowed/],
    ['busybox&&id', /not allowed/],
    ['busybox|id', /not allowed/],
    ['$(id)', /not allowed/],
    ['`id`', /not allowed/],
    ['busybox>x', /not allowed/],
    ["busy'box", /not allowed/],
    ['busy"box', /not allowed/],
    ['busy\\box', /not allowed/],
    ['busybox*', /not allowed/],
    ['busy\u0000box', /non-printable/],
    ['büsybox', /non-ASCII/],
    ['BusyBox', /lowercase/],
    ['library/Busybox:1', /lowercase/],
    ['ghcr.io/Org/app', /lowercase/],
    ['busybox:', /tag/],
    ['busybox:-x', /tag/],
    ['busybox:.x', /tag/],
    [`busybox:${'t'.repeat(129)}`, /tag/],
    ['busybox@sha256:abc', /digest/],
    [`busybox@sha512:${'a'.repeat(64)}`, /digest/],
    [`busybox@sha256:${'A'.repeat(64)}`, /digest/],
    ['busybox@', /digest/],
    ['/busybox', /empty path component/],
    ['a//b', /empty path component/],
    ['a/', /empty path component/],
    ['a..b', /path component/],
    ['a-', /path component/],
    ['_a', /path component/],
    ['a___b', /path component/],
    ['reg.io:0/app', /port/],
    ['reg.io:99999/app', /port/],
    ['reg.io:abc/app', /port/],
    ['-reg.io/app', /starts with '-'/],
    ['reg-.io/app', /host/],
    ['reg..io/app', /host/],
    [':5000/app', /host/],
    [`${'a'.repeat(256)}`, /name is longer/],
    [`${'a'.repeat(500)}`, /longer than/],
  ])('%j', (ref, why) => {
    expect(() => parseImageRef(ref)).toThrow(why);
    expect(isValidImageRef(ref)).toBe(false);
  });

  it('throws a UserError with a stable code and hint', () => {
    try {
      parseImageRef('Bad Ref');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(UserError);
      expect((error as UserError).code).toBe('IMAGE_REF_INVALID');
      expect((error as UserError).hint).toMatch(/registry/);
    }
  });
});
