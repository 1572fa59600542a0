// A latency histogram with bounded memory, whatever the number of samples: 1 µs buckets below
// 1.024 ms, then 512 buckets per power of two (under 0.2 % error), up to 2^31 µs (about 36 min).

const LINEAR_US = 1024;
const SUB_BUCKETS = 512;
const OCTAVES = 22; // 2^10 .. 2^31 µs
const BUCKETS = LINEAR_US + OCTAVES * SUB_BUCKETS;
const VALUE_US_MAX = 2 ** 31 - 1;

export interface Percentiles {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

function bucketOf(us: number): number {
  if (us < LINEAR_US) return us;
  const exponent = 31 - Math.clz32(us); // 10 .. 30
  const shift = exponent - 9;
  return LINEAR_US + (exponent - 10) * SUB_BUCKETS + ((us >>> shift) - SUB_BUCKETS);
}

/** The middle of a bucket, in µs. */
function valueOf(bucket: number): number {
  if (bucket < LINEAR_US) return bucket;
  const octave = Math.floor((bucket - LINEAR_US) / SUB_BUCKETS);
  const shift = octave + 1;
  const mantissa = ((bucket - LINEAR_US) % SUB_BUCKETS) + SUB_BUCKETS;
  return mantissa * 2 ** shift + 2 ** (shift - 1);
}

export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKETS);
  private total = 0;
  private maxUs = 0;

  get count(): number {
    return this.total;
  }

  recordMs(ms: number): void {
    const us = Math.min(VALUE_US_MAX, Math.max(0, Math.round(ms * 1000)));
    this.counts[bucketOf(us)]! += 1;
    this.total += 1;
    if (us > this.maxUs) this.maxUs = us;
  }

  /** Percentiles in milliseconds, or null when nothing was recorded. */
  percentiles(): Percentiles | null {
    if (this.total === 0) return null;
    return {
      p50: this.quantileMs(0.5),
      p90: this.quantileMs(0.9),
      p99: this.quantileMs(0.99),
      max: this.maxUs / 1000,
    };
  }

  private quantileMs(q: number): number {
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let b = 0; b < BUCKETS; b++) {
      seen += this.counts[b]!;
      if (seen >= rank) return Math.min(valueOf(b), this.maxUs) / 1000;
    }
    return this.maxUs / 1000;
  }
}
