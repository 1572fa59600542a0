import type { Deadline } from './deadline.js';
import type { BenchOptions } from './options.js';
import type { Progress } from './progress.js';
import type { Figures } from './report.js';
import type { Plan, Target } from './target.js';

// What every scenario module provides: the setup it needs, the parameters it reports, and a run.

export interface RunContext {
  readonly options: BenchOptions;
  readonly target: Target;
  readonly progress: Progress;
  /** The time cap of the run (--duration-s); HTTP scenarios use it as their length instead. */
  readonly deadline: Deadline;
}

export interface Outcome {
  readonly figures: Figures;
  /** Empty when the run passed. */
  readonly failures: string[];
}

export interface Scenario {
  plan(options: BenchOptions): Plan;
  params(options: BenchOptions): Record<string, number | string | boolean>;
  run(ctx: RunContext): Promise<Outcome>;
}
