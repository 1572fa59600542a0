// Proves that message bodies are a union by `kind`: tsc (`npm test` runs tsconfig.check.json over
// src/**) refuses every `@ts-expect-error` line below unless it is an error, so a misspelt kind,
// a missing field, a field of another kind or a server-only kind does not compile, while the
// right bodies do and `m.body.text` is typed after narrowing. The runtime half checks readBody.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readBody, type Body, type EditBody, type SendableBody } from './body.js';
import type { ParleyClient } from './client.js';
import type { Message } from './types.js';

/** Compiled, never run: each statement is a case for the type checker. */
export function sendCases(client: ParleyClient, c: string): void {
  void client.send(c, { kind: 'text', text: 'hi', mentions: 'all', replyTo: 3 });
  void client.send(c, { kind: 'image', attachment: 'a1', width: 10, height: 10 });
  void client.send(c, { kind: 'file', attachment: 'a1', name: 'x.pdf', caption: 'see' });
  void client.send(c, { kind: 'audio', attachment: 'a1', durationMs: 4200 });
  void client.send(c, { kind: 'video', attachment: 'a1', durationMs: 1, width: 1, height: 1 });
  void client.send(c, { kind: 'location', lat: 1, lng: 2, label: 'here' });
  void client.send(c, { kind: 'custom', type: 'poll', payload: null });
  void client.send(c, { kind: 'text', text: 'fw', forwardedFrom: { conversation: c, seq: 1 } });

  // @ts-expect-error: no such kind
  void client.send(c, { kind: 'txt', text: 'hi' });
  // @ts-expect-error: a text body needs its text
  void client.send(c, { kind: 'text' });
  // @ts-expect-error: `text` is a field of text bodies, not of images
  void client.send(c, { kind: 'image', attachment: 'a1', text: 'hi' });
  // @ts-expect-error: an image names its attachment
  void client.send(c, { kind: 'image', width: 1 });
  // @ts-expect-error: the server writes system bodies; clients cannot send them
  void client.send(c, { kind: 'system', event: 'member.added', actor: 'u', targets: [] });
  // @ts-expect-error: nor recalled ones
  void client.send(c, { kind: 'recalled' });
  // @ts-expect-error: mentions are user ids or 'all'
  void client.send(c, { kind: 'text', text: 'hi', mentions: 'everyone' });
  // @ts-expect-error: a location's coordinates are numbers
  void client.send(c, { kind: 'location', lat: '1', lng: 2 });
  // @ts-expect-error: a custom body has a payload
  void client.send(c, { kind: 'custom', type: 'poll' });
  // @ts-expect-error: replyTo is a seq
  void client.send(c, { kind: 'text', text: 'hi', replyTo: 'm1' });
}

export function editCases(client: ParleyClient, c: string): void {
  void client.edit(c, 1, { kind: 'text', text: 'fixed', mentions: ['u1'] });
  // @ts-expect-error: only text is edited
  void client.edit(c, 1, { kind: 'image', attachment: 'a1' });
  // @ts-expect-error: an edit keeps the message's replyTo; it cannot set one
  void client.edit(c, 1, { kind: 'text', text: 'fixed', replyTo: 2 });
}

/** Narrowing on `kind` gives that kind's fields, typed. */
export function narrowingCases(m: Message): string | number | undefined {
  // @ts-expect-error: before narrowing, `text` is not on every kind
  void m.body.text;
  switch (m.body.kind) {
    case 'text': {
      const text: string = m.body.text;
      return text;
    }
    case 'image':
      return m.body.width;
    case 'location':
      return m.body.lat;
    case 'system': {
      // @ts-expect-error: a system body has no text
      void m.body.text;
      return m.body.event;
    }
    case 'file':
    case 'audio':
    case 'video':
    case 'custom':
    case 'recalled':
    case 'hidden':
    case 'unreadable':
      return undefined;
    default: {
      // Exhaustive: every kind is handled above.
      const never: never = m.body;
      return never;
    }
  }
}

export function assignabilityCases(body: Body): void {
  // @ts-expect-error: a received body may be one the server wrote; it is not sendable as is
  const sendable: SendableBody = body;
  const edit: EditBody = { kind: 'text', text: 'x' };
  void sendable;
  void edit;
}

describe('readBody', () => {
  it('keeps a body of a known kind as it came', () => {
    const body = { kind: 'text', text: 'hi', replyTo: 2 };
    assert.equal(readBody(body), body);
  });

  it('turns an unknown kind (a newer server) into unreadable, keeping what came', () => {
    assert.deepEqual(readBody({ kind: 'poll', q: 1 }), {
      kind: 'unreadable',
      original: { kind: 'poll', q: 1 },
    });
  });

  it('turns a missing body into unreadable', () => {
    assert.deepEqual(readBody(undefined), { kind: 'unreadable' });
  });
});
