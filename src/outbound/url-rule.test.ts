// Proves the URL rule over the whole class of each attack, by table: an allow-list entry admits
// its exact scheme, host and port and its path by whole segments; userinfo, encoded dots and
// separators, backslashes, control characters and look-alike hosts or ports are refused; bad
// operator entries are refused at parse time without echoing them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AllowList, OutboundError } from './index.js';

const list = AllowList.parse([
  'https://push.example.com',
  'https://gw.example/push',
  'http://127.0.0.1:3220/push/',
  'http://[::1]:3221/v1',
]);

const ALLOWED = [
  'https://push.example.com/',
  'https://push.example.com',
  'https://push.example.com/anything/at/all?x=1',
  'https://push.example.com:443/',
  'HTTPS://PUSH.EXAMPLE.COM/',
  'https://gw.example/push',
  'https://gw.example/push/',
  'https://gw.example/push/x',
  'https://gw.example/push/x/y?token=a%2Fb',
  'https://gw.example/push/x/../y', // normalises to /push/y
  'https://gw.example/push/./x',
  'http://127.0.0.1:3220/push',
  'http://127.0.0.1:3220/push/notify',
  'http://[::1]:3221/v1/notify',
];

/** [url, why it must be refused] */
const REFUSED: readonly (readonly [string, string])[] = [
  // Look-alike ports and hosts: the old prefix check took these.
  ['http://127.0.0.1:32206/push/internal', 'port that starts with the allowed one'],
  ['http://127.0.0.1:3220/pushx', 'path prefix that is not a whole segment'],
  ['http://127.0.0.1:3220/push-admin', 'path prefix that is not a whole segment'],
  ['https://push.example.com.evil.example/', 'host that starts with the allowed one'],
  ['https://push.example.com./', 'trailing-dot host'],
  ['https://evilpush.example.com/', 'host that ends with the allowed one'],
  ['https://push.example.com:8443/', 'other port'],
  ['http://push.example.com/', 'other scheme'],
  ['https://127.0.0.1:3220/push/', 'other scheme on the listed host'],
  ['http://localhost:3220/push/', 'a name for the listed address'],
  ['http://127.0.0.2:3220/push/', 'another loopback address'],
  ['http://[::1]:3220/push/', 'the IPv6 loopback'],
  // Userinfo, whatever its shape.
  ['https://push.example.com@169.254.169.254/', 'userinfo naming the allowed host'],
  ['https://user:pw@push.example.com/', 'userinfo on the allowed host'],
  ['https://@push.example.com/', 'empty userinfo'],
  ['https://:@push.example.com/', 'empty user and password'],
  ['https://push.example.com%40169.254.169.254/', 'encoded @ in the host'],
  // Dot segments that leave the prefix, plain and encoded, in any case, single or double.
  ['https://gw.example/push/../admin', 'dot-dot segment'],
  ['https://gw.example/push/..', 'trailing dot-dot'],
  ['https://gw.example/push/%2e%2e/admin', 'encoded dot-dot'],
  ['https://gw.example/push/%2E%2E/admin', 'encoded dot-dot, upper case'],
  ['https://gw.example/push/%2e./admin', 'half-encoded dot-dot'],
  ['https://gw.example/push/.%2E/admin', 'half-encoded dot-dot, upper case'],
  ['https://gw.example/push/%2e/x', 'encoded single dot'],
  ['https://gw.example/push/%252e%252e/admin', 'double-encoded dot-dot'],
  ['https://gw.example/push/%2e%2e%2fadmin', 'encoded dot-dot and slash'],
  ['https://gw.example/push/..%2fadmin', 'dot-dot with an encoded slash'],
  ['https://gw.example/push%2f..%2fadmin', 'encoded slashes'],
  ['https://gw.example/push/%5c..%5cadmin', 'encoded backslashes'],
  ['https://gw.example/push/%00', 'encoded NUL'],
  ['https://gw.example/push/%0d%0aX:1', 'encoded CR LF'],
  // Backslashes, which the parser turns into slashes.
  ['https://gw.example/push\\..\\admin', 'backslash dot-dot'],
  ['https://gw.example\\push', 'backslash as the first slash'],
  ['https:\\\\gw.example/push', 'backslashes for //'],
  ['https://gw.example/push/\\x', 'backslash in the path'],
  // What the parser strips or maps before we would see it.
  ['https://gw.exa\tmple/push', 'tab in the host'],
  ['https://gw.example/pu\nsh', 'newline in the path'],
  [' https://gw.example/push', 'leading space'],
  ['https://gw.example/push ', 'trailing space'],
  ['https://gw.example/pushé', 'non-ASCII'],
  ['https://gw。example/push', 'ideographic full stop in the host'],
  // Not http(s), or not in the plain form.
  ['https:gw.example/push', 'no slashes'],
  ['https:/gw.example/push', 'one slash'],
  ['file:///etc/passwd', 'file scheme'],
  ['ftp://push.example.com/', 'ftp scheme'],
  ['javascript:alert(1)', 'javascript scheme'],
  ['//push.example.com/', 'scheme-relative'],
  ['/push', 'relative'],
  ['', 'empty'],
  ['https://', 'no host'],
];

describe('AllowList', () => {
  it('allows each URL under an entry', () => {
    for (const url of ALLOWED) assert.ok(list.permits(url), `should allow ${url}`);
  });

  it('refuses every URL of the attack table, with a coded error', () => {
    for (const [url, why] of REFUSED) {
      assert.equal(list.permits(url), false, `should refuse ${JSON.stringify(url)}: ${why}`);
      assert.throws(
        () => list.check(url),
        (err) => err instanceof OutboundError && err.code === 'url_refused',
        why,
      );
    }
  });

  it('never names the URL in its error (it may carry a credential)', () => {
    const secret = 'https://user:s3cret@push.example.com/?key=s3cret';
    assert.throws(
      () => list.check(secret),
      (err) => err instanceof OutboundError && !err.message.includes('s3cret'),
    );
  });

  it('allows nothing when empty, and lists origins exactly', () => {
    const empty = AllowList.parse([]);
    assert.equal(empty.size, 0);
    assert.equal(empty.permits('https://push.example.com/'), false);
    assert.ok(list.listsOrigin(new URL('http://127.0.0.1:3220/other')));
    assert.equal(list.listsOrigin(new URL('http://127.0.0.1:32206/push')), false);
    assert.equal(list.listsOrigin(new URL('http://localhost:3220/push')), false);
  });

  it('anyPublic() applies the raw rule but lists no origin', () => {
    const any = AllowList.anyPublic();
    assert.ok(any.permits('https://elsewhere.example/x'));
    assert.equal(any.permits('https://a@elsewhere.example/'), false);
    assert.equal(any.permits('https://elsewhere.example/%2e%2e/'), false);
    assert.equal(any.permits('http://elsewhere.example:0/'), false);
    assert.equal(any.listsOrigin(new URL('http://127.0.0.1/')), false);
  });

  it('refuses an operator entry that breaks the rule, by position, without its text', () => {
    for (const entry of [
      'https://user:pw@gw.example/',
      'https://gw.example/push\\x',
      'https://gw.example/%2e%2e/',
      'ftp://gw.example/',
      'gw.example',
      'http://gw.example:0/',
    ]) {
      assert.throws(
        () => AllowList.parse(['https://ok.example/', entry], 'PARLEY_PUSH_GATEWAYS entry'),
        (err) =>
          err instanceof Error &&
          err.message.startsWith('PARLEY_PUSH_GATEWAYS entry #2 is not usable') &&
          !err.message.includes('gw.example'),
        entry,
      );
    }
  });
});
