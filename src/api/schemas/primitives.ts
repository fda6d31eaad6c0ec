// The building blocks of the coordinator API's wire format (src/api/schemas/*): money, ids, addresses, labels, image
// references, environment maps, ports. Their rules (what is refused, what is cleaned) hold for every route alike.
import bs58 from 'bs58';
import { z } from 'zod';
import { isPrintableLabel } from '../../domain/text.js';

export const money = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
/** A Solana address: base58 that decodes to exactly 32 bytes (a right-looking string of the wrong length is not one). */
export const base58Key = z
  .string()
  .regex(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/, 'must be a base58 public key')
  .refine((text) => bs58.decodeUnsafe(text)?.length === 32, 'must be a base58 public key (32 bytes)');
export const isoTime = z.string();
export const id = z.string().min(1).max(100).regex(/^[A-Za-z0-9_.:-]+$/, 'must be an id (letters, digits, _ . : -)');
/**
 * Identifiers and labels (GPU models and UUIDs, regions, versions, filters): no NUL or other control characters, no
 * bidirectional overrides. Refused alike on SQLite and PostgreSQL (which cannot store NUL in text), and safe to show.
 */
export function label(max: number, min = 1) {
  return z.string().min(min).max(max).refine(isPrintableLabel, 'must not contain control characters');
}
/** Free text a node reports (container errors): control characters other than tab and newline are replaced, never refused. */
export const reportText = (max: number) =>
  // eslint-disable-next-line no-control-regex
  z.string().max(max).transform((text) => text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '\ufffd'));
export const shortText = label(200);
/** Image references: registry/name[:tag][@digest]; no whitespace or shell metacharacters. */
export const imageReference = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[a-z0-9][a-z0-9._\-/:@]*$/i, 'must be an image reference like "pytorch/pytorch:2.3.0"');
export const envMap = z
  .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'env names must be letters, digits and _'), z.string().max(4096))
  .refine((env) => Object.keys(env).length <= 100, 'at most 100 env variables');
export const port = z.number().int().min(1).max(65535);
/** A numeric non-root user and group for a lease container (`rent --user UID:GID`); 0 is root, the default anyway. */
export const leaseUserSchema = z.object({ uid: z.number().int().min(1).max(2_147_483_647), gid: z.number().int().min(1).max(2_147_483_647) });

/** A query-string flag: true, false, "1", "0", "true" or "false". */
export const boolish = z.union([z.boolean(), z.enum(['1', '0', 'true', 'false'])]).transform((v) => v === true || v === '1' || v === 'true');
