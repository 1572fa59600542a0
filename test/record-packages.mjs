// Preloaded with `--import` by lazy-dependencies.test.ts: appends the name of every package the
// process resolves (once each) to the file named by RECORD_PACKAGES_OUT, whether it is imported
// (seen by a module resolve hook) or required (seen through CommonJS resolution, which Node 20's
// hooks do not see). Each name is written when first resolved, so the list holds even if the
// process is killed.
import { appendFileSync } from 'node:fs';
import Module, { register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';

const out = process.env.RECORD_PACKAGES_OUT;
if (out) {
  const seen = new Set();
  const record = (path) => {
    const match = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*\/node_modules\/)/.exec(String(path));
    if (!match || seen.has(match[1])) return;
    seen.add(match[1]);
    appendFileSync(out, `${match[1]}\n`);
  };
  const { port1, port2 } = new MessageChannel();
  port1.on('message', record);
  port1.unref();
  register('./record-packages-hooks.mjs', import.meta.url, {
    data: { port: port2 },
    transferList: [port2],
  });
  const resolveFilename = Module._resolveFilename;
  Module._resolveFilename = function (...args) {
    const filename = resolveFilename.apply(this, args);
    record(filename);
    return filename;
  };
}
