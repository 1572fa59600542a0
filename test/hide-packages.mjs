// Preloaded with `--import`: the packages named in HIDE_PACKAGES (comma-separated) resolve as if
// they were not installed, as after `npm ci --omit=dev`, for the tests of what a production
// install says when a development dependency is asked for.
import { register } from 'node:module';

const hidden = (process.env.HIDE_PACKAGES ?? '').split(',').filter(Boolean);
if (hidden.length > 0) {
  register('./hide-packages-hooks.mjs', import.meta.url, { data: { hidden } });
}
