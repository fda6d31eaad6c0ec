// Validation of Docker image references: what a renter may ask a provider to pull and run.

import { UserError } from '../errors.js';

/** A parsed image reference, e.g. `registry.example.com:5000/team/app:1.2@sha256:…`. */
export interface ImageRef {
  /** The reference exactly as given (already validated). */
  raw: string;
  /** Registry host with optional port, when the first component names one. */
  registry?: string;
  /** Path below the registry, e.g. `team/app` or `nvidia/cuda`. */
  repository: string;
  tag?: string;
  /** `sha256:<64 hex>`. */
  digest?: string;
}

// Docker's own limits (distribution/reference): the name is at most 255 characters, a tag 128.
const MAX_NAME_LENGTH = 255;
const MAX_REF_LENGTH = 255 + 1 + 128 + 1 + 71;

const DOMAIN_COMPONENT = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
// alpha-numeric runs joined by one separator: '.', '_', '__' or any number of '-'.
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

function invalid(ref: string, why: string): UserError {
  return new UserError(`Invalid image reference ${JSON.stringify(ref.length > 80 ? `${ref.slice(0, 80)}…` : ref)}: ${why}.`, {
    code: 'IMAGE_REF_INVALID',
    hint: 'Use the form [registry[:port]/]name[:tag][@sha256:<digest>], e.g. nvidia/cuda:12.4.1-runtime-ubuntu22.04.',
  });
}

/** Parses and validates an image reference; throws UserError (code IMAGE_REF_INVALID) when it is not one. */
export function parseImageRef(ref: string): ImageRef {
  if (typeof ref !== 'string' || ref.length === 0) throw invalid(String(ref), 'it is empty');
  if (ref.length > MAX_REF_LENGTH) throw invalid(ref, `it is longer than ${MAX_REF_LENGTH} characters`);
  // Checked before the grammar so the message names the actual danger.
  if (/\s/.test(ref)) throw invalid(ref, 'it contains whitespace');
  if (ref.startsWith('-')) throw invalid(ref, "it starts with '-' (would be read as an option)");
  if (/[;&|`$(){}<>\\'"!*?#~%^[\],=+]/.test(ref)) throw invalid(ref, 'it contains a character that is not allowed');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\uffff]/.test(ref)) throw invalid(ref, 'it contains a non-printable or non-ASCII character');

  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw invalid(ref, 'the digest must be sha256: followed by 64 lowercase hex digits');
  }

  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const lastColon = rest.lastIndexOf(':');
  // A colon after the last slash separates the tag; one before it is a registry port.
  if (lastColon > lastSlash) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!TAG.test(tag)) throw invalid(ref, 'the tag must be 1-128 of [A-Za-z0-9_.-] and not start with . or -');
  }

  const name = rest;
  if (name.length === 0) throw invalid(ref, 'the name is empty');
  if (name.length > MAX_NAME_LENGTH) throw invalid(ref, `the name is longer than ${MAX_NAME_LENGTH} characters`);

  const components = name.split('/');
  let registry: string | undefined;
  // Docker's rule: the first component is a registry if it has a '.' or ':' or is 'localhost'.
  if (components.length > 1 && (/[.:]/.test(components[0]!) || components[0] === 'localhost')) {
    registry = components.shift()!;
    validateRegistry(ref, registry);
  }

  for (const component of components) {
    if (component.length === 0) throw invalid(ref, 'it has an empty path component');
    if (/[A-Z]/.test(component)) throw invalid(ref, 'repository names must be lowercase');
    if (!PATH_COMPONENT.test(component)) {
      throw invalid(ref, `path component ${JSON.stringify(component)} must be lowercase letters and digits joined by '.', '_', '__' or '-'`);
    }
  }

  return { raw: ref, registry, repository: components.join('/'), tag, digest };
}

function validateRegistry(ref: string, registry: string): void {
  const colon = registry.indexOf(':');
  const host = colon === -1 ? registry : registry.slice(0, colon);
  if (colon !== -1) {
    const port = registry.slice(colon + 1);
    if (!/^[0-9]{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
      throw invalid(ref, 'the registry port must be a number from 1 to 65535');
    }
  }
  if (host.length === 0 || !host.split('.').every((part) => DOMAIN_COMPONENT.test(part))) {
    throw invalid(ref, `registry host ${JSON.stringify(host)} is not a valid host name`);
  }
}

/** True when `ref` is a valid image reference. */
export function isValidImageRef(ref: string): boolean {
  try {
    parseImageRef(ref);
    return true;
  } catch {
    return false;
  }
}
