import { createServer } from 'node:http';

// The ceiling for the HTTP scenarios: a bare node:http server that answers the seed API's routes
// with fixed JSON of the same shape as Parley's (a 10-message page for pull), after reading the
// request body, and does nothing else. Run as a child process by baseline-target.ts.

const page = {
  messages: Array.from({ length: 10 }, (_, i) => ({
    chat: 'a1:a2',
    text: `random number ${i}`,
    sender: i % 2 === 0 ? 'a1' : 'a2',
    send_time: 1_795_453_428_105_000 - i,
  })),
  has_more: true,
  next_cursor: 1_795_453_428_104_991,
};
const SEND = Buffer.from(
  JSON.stringify({ status: 'success', send_time: 1_795_453_428_105_000, seq: 1 }),
);
const PULL = Buffer.from(JSON.stringify(page));
const PONG = Buffer.from(JSON.stringify({ message: 'pong' }));
const NOT_FOUND = Buffer.from(
  JSON.stringify({ error: { code: 'not_found', message: 'Not found' } }),
);

const server = createServer((req, res) => {
  req.resume();
  req.once('end', () => {
    const path = (req.url ?? '/').split('?')[0];
    const body =
      req.method === 'POST' && path === '/api/send'
        ? SEND
        : req.method === 'GET' && path === '/api/pull'
          ? PULL
          : req.method === 'GET' && path === '/ping'
            ? PONG
            : null;
    res.writeHead(body ? 200 : 404, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': (body ?? NOT_FOUND).length,
    });
    res.end(body ?? NOT_FOUND);
  });
});
server.keepAliveTimeout = 72_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.stdout.write(JSON.stringify({ level: 30, msg: 'baseline listening', port }) + '\n');
});
process.once('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
