import { asError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';

/**
 * The one teardown list of a node: each part registers how it closes as soon as it exists, and
 * closeAll runs them last-registered first, so a part closes before whatever it was built on.
 * The same list serves a start that failed halfway and a normal stop, so teardown is written
 * once. A step that fails is logged and the others still run; the first failure is rethrown at
 * the end.
 */
export class Closers {
  private readonly steps: { readonly name: string; readonly close: () => unknown }[] = [];
  private closing: Promise<void> | null = null;

  constructor(private readonly log: Logger) {}

  /** Registers a step; `name` is for the log when it fails. */
  defer(name: string, close: () => unknown): void {
    this.steps.push({ name, close });
  }

  /** Runs every step once, in reverse order of registration (later calls share the first run). */
  closeAll(): Promise<void> {
    return (this.closing ??= this.run());
  }

  private async run(): Promise<void> {
    let first: Error | null = null;
    for (const step of this.steps.reverse()) {
      try {
        await step.close();
      } catch (err) {
        this.log.error({ err, step: step.name }, 'closing failed');
        first ??= asError(err);
      }
    }
    if (first !== null) throw first;
  }
}
