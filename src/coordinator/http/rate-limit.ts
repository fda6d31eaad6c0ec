// Token-bucket rate limits with bounded memory. The server keeps two: per client address before authentication (so
// unsigned and forged requests cost their sender, never the identity they name), and per verified identity after it
// (a wallet's signature or a heartbeat session's MAC checked). Each replica limits on its own: see README "Rate limits".

export interface RateLimit {
  perSecond: number;
  burst: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Buckets keyed by string; past `maxKeys` the least recently used key is dropped (an idle bucket is full anyway). */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly limit: RateLimit,
    private readonly options: { now: () => number; maxKeys: number },
  ) {}

  /** Take one token for `key`; false when its bucket is empty (answer 429). */
  take(key: string): boolean {
    const t = this.options.now();
    let bucket = this.buckets.get(key);
    if (bucket) {
      // Re-insert so Map order is least recently used first.
      this.buckets.delete(key);
      bucket.tokens = Math.min(this.limit.burst, bucket.tokens + ((t - bucket.at) / 1000) * this.limit.perSecond);
      bucket.at = t;
    } else {
      bucket = { tokens: this.limit.burst, at: t };
      if (this.buckets.size >= this.options.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
    }
    this.buckets.set(key, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  get size(): number {
    return this.buckets.size;
  }
}
