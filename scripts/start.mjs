// `npm start`: builds when a source changed since the last build (scripts/build.mjs), then
// serves in this same process, as `node dist/cli.js serve` would.
import { ROOT, build } from './build.mjs';

try {
  await build(ROOT, { ifStale: true });
} catch (err) {
  process.stderr.write(`parley: ${err.message}\n`);
  process.exit(1);
}
const { runCli } = await import('../dist/main.js');
const code = await runCli(['serve', ...process.argv.slice(2)]);
if (code !== 0) process.exitCode = code;
