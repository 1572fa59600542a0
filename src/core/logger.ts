import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

// Paths that must never reach a log line, whatever a caller passes in: credentials, tokens and
// message bodies. Callers should not log them in the first place; this is the second fence.
const REDACT_PATHS = [
  'password',
  'token',
  'body',
  'text',
  '*.password',
  '*.token',
  '*.body',
  '*.text',
  'req.headers.authorization',
  'headers.authorization',
];

/** JSON lines to stdout, or to `destination` (the terminal's pretty printer, main.ts). */
export function createLogger(
  level: LevelWithSilent,
  node: string,
  destination?: DestinationStream,
): Logger {
  const options = { level, base: { node }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}
