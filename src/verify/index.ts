// `parley verify`: fault injection on separate hosts with a history checker (docs/reliability.md).
export { runVerifyCli, VERIFY_USAGE, formatReport } from './cli.js';
export { runVerify } from './run.js';
export type { VerifyOptions, VerifyReport } from './run.js';
export { checkHistory, formatViolations, readHistory } from './checker.js';
export type { HistoryEvent, HistoryHeader } from './history.js';
