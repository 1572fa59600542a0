// The time cap of one scenario run: every wait in a scenario is raced against it, so a run ends
// (and reports a failure) when the cap is hit, whatever is stuck.

export class TimeCapError extends Error {
  constructor(phase: string, capMs: number) {
    super(`time cap of ${(capMs / 1000).toFixed(1)} s hit during ${phase}`);
    this.name = 'TimeCapError';
  }
}

export class Deadline {
  readonly startMs = performance.now();
  readonly capMs: number;

  constructor(capMs: number) {
    this.capMs = capMs;
  }

  remainingMs(): number {
    return Math.max(0, this.startMs + this.capMs - performance.now());
  }

  get expired(): boolean {
    return this.remainingMs() <= 0;
  }

  /** Resolves as `work` does, or rejects with TimeCapError when the cap comes first. */
  race<T>(work: Promise<T>, phase: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const cap = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TimeCapError(phase, this.capMs)), this.remainingMs());
    });
    return Promise.race([work, cap]).finally(() => clearTimeout(timer));
  }
}
