import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions } from 'fastify/types/logger.js';

// Fastify gives every request a child logger carrying its reqId. With Parley's redaction on, a
// pino child sets up its serializers and bindings: 2.6 % of the event loop in a profile of
// `http-pull` (issue 19), for a logger that almost no request writes to (request lines are off;
// only failures log). This child is the same logger, made on its first line instead.

type Args = Parameters<FastifyBaseLogger['info']>;

// Methods on the prototype, not closures per instance: one small object per request.
class LazyChildLogger implements FastifyBaseLogger {
  private made: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  get level(): string {
    return this.made?.level ?? this.options.level ?? this.parent.level;
  }

  set level(level: string) {
    this.real().level = level;
  }

  fatal(...args: Args): void {
    this.real().fatal(...args);
  }
  error(...args: Args): void {
    this.real().error(...args);
  }
  warn(...args: Args): void {
    this.real().warn(...args);
  }
  info(...args: Args): void {
    this.real().info(...args);
  }
  debug(...args: Args): void {
    this.real().debug(...args);
  }
  trace(...args: Args): void {
    this.real().trace(...args);
  }
  silent(): void {}

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.real().child(bindings, options);
  }

  private real(): FastifyBaseLogger {
    return (this.made ??= this.parent.child(this.bindings, this.options));
  }
}

/** A Fastify childLoggerFactory whose children are made when first written to. */
export function lazyChildLogger(
  parent: FastifyBaseLogger,
  bindings: Bindings,
  options: ChildLoggerOptions,
): FastifyBaseLogger {
  return new LazyChildLogger(parent, bindings, options);
}
