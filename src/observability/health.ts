import type { Logger } from '../core/logger.js';

// Liveness and readiness (docs/operations.md). Liveness is the process answering at all.
// Readiness is "send traffic here": every check (a trivial store query; in a cluster, a Redis
// PING) answered within the timeout, and the node is not draining. Draining starts when the node
// is told to stop (SIGTERM), before anything closes, so a load balancer stops sending new
// requests while the node finishes the ones it has.

export interface ReadinessCheck {
  readonly name: string;
  /** Resolves when the dependency answered; rejects (or hangs, which times out) when not. */
  readonly probe: () => Promise<unknown>;
}

export type CheckState = 'ok' | 'failed';

export interface Readiness {
  readonly ready: boolean;
  readonly draining: boolean;
  readonly checks: Readonly<Record<string, CheckState>>;
}

const CHECK_TIMEOUT_MS_DEFAULT = 2_000;

export class Health {
  private readonly checks: readonly ReadinessCheck[];
  private readonly timeoutMs: number;
  private readonly log: Logger;
  private drainingSince: number | null = null;

  constructor(options: { checks: readonly ReadinessCheck[]; logger: Logger; timeoutMs?: number }) {
    this.checks = options.checks;
    this.timeoutMs = options.timeoutMs ?? CHECK_TIMEOUT_MS_DEFAULT;
    this.log = options.logger;
  }

  /** From now on the node reports not ready. Idempotent. */
  drain(): void {
    this.drainingSince ??= Date.now();
  }

  get draining(): boolean {
    return this.drainingSince !== null;
  }

  /** Runs every check at once; a failure is logged (without details to the caller). */
  async readiness(): Promise<Readiness> {
    const results = await Promise.all(this.checks.map((c) => this.run(c)));
    const checks: Record<string, CheckState> = {};
    this.checks.forEach((c, i) => (checks[c.name] = results[i]!));
    const draining = this.draining;
    return { ready: !draining && results.every((r) => r === 'ok'), draining, checks };
  }

  private async run(check: ReadinessCheck): Promise<CheckState> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
    });
    try {
      await Promise.race([check.probe(), timeout]);
      return 'ok';
    } catch (err) {
      this.log.warn({ err, check: check.name }, 'readiness check failed');
      return 'failed';
    } finally {
      clearTimeout(timer);
    }
  }
}
