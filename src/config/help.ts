import { envName } from './config.js';
import type { Setting } from './setting.js';
import { SETTING_GROUPS } from './settings.js';

/** `parley --help`'s settings: a heading per concern, then one line per setting. */
export function describeSettings(): string {
  return SETTING_GROUPS.map(
    (group) =>
      `\n${group.title}:\n` +
      Object.values(group.settings as Record<string, Setting>)
        .map(describe)
        .join('\n'),
  ).join('\n');
}

function describe(s: Setting): string {
  const { description = '', default: fallback } = s.schema as {
    description?: string;
    default?: unknown;
  };
  const shown = fallback === undefined ? '' : ` (default ${shownValue(fallback)})`;
  return `  --${s.name.padEnd(28)} ${envName(s.name).padEnd(36)} ${description}${shown}`;
}

function shownValue(fallback: unknown): string {
  return JSON.stringify(Array.isArray(fallback) ? fallback.join(',') : fallback);
}
