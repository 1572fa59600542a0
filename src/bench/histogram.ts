import * as hdr from 'hdr-histogram-js';

// A latency histogram with bounded memory, whatever the number of samples: HdrHistogram with
// three significant digits (under 0.1 % error), from 1 µs to 2^31 µs (about 36 min). Every
// scenario records latencies, so hdr-histogram-js is a runtime dependency, unlike autocannon
// (decision 0079).

const VALUE_US_MAX = 2 ** 31 - 1;

export interface Percentiles {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

export class LatencyHistogram {
  // The JavaScript implementation: no WebAssembly memory to free when a run ends.
  private readonly h = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: VALUE_US_MAX,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
  });

  get count(): number {
    return this.h.totalCount;
  }

  recordMs(ms: number): void {
    this.h.recordValue(Math.min(VALUE_US_MAX, Math.max(0, Math.round(ms * 1000))));
  }

  /** Percentiles in milliseconds, or null when nothing was recorded. */
  percentiles(): Percentiles | null {
    if (this.h.totalCount === 0) return null;
    const at = (percentile: number) => this.h.getValueAtPercentile(percentile) / 1000;
    return { p50: at(50), p90: at(90), p99: at(99), max: this.h.maxValue / 1000 };
  }
}
