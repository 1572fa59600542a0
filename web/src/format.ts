// Text for the screen: times, sizes, message previews and system-message sentences.
import type { AnyBody as Body } from 'parley/sdk';

/** `14:05` today, `Mon 14:05` this week, `12 Mar` before that. */
export function shortTime(ms: number, now = Date.now()): string {
  const d = new Date(ms);
  const today = new Date(now);
  if (d.toDateString() === today.toDateString()) {
    return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  }
  if (now - ms < 6 * 86_400_000) {
    return d.toLocaleString([], { weekday: 'short', hour: '2-digit', minute: '2-digit' });
  }
  return d.toLocaleDateString([], { day: 'numeric', month: 'short' });
}

export function fullTime(ms: number): string {
  return new Date(ms).toLocaleString();
}

export function byteSize(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

function str(body: Body, key: string): string | undefined {
  const v = body[key];
  return typeof v === 'string' ? v : undefined;
}

/** One line that stands for a message in the conversation list or a reply quote. */
export function previewOf(body: Body, nameOf: (id: string) => string): string {
  switch (body.kind) {
    case 'text':
      return str(body, 'text') ?? '';
    case 'image':
      return `📷 ${str(body, 'caption') ?? 'Photo'}`;
    case 'file':
      return `📎 ${str(body, 'name') ?? 'File'}`;
    case 'audio':
      return '🎵 Audio';
    case 'video':
      return `🎬 ${str(body, 'caption') ?? 'Video'}`;
    case 'location':
      return `📍 ${str(body, 'label') ?? 'Location'}`;
    case 'recalled':
      return 'Message recalled';
    case 'system':
      return systemText(body, nameOf);
    case 'custom':
      return `[${str(body, 'type') ?? 'custom'}]`;
    default:
      return `[${body.kind}]`;
  }
}

/** A sentence for a system message (docs/groups.md, "System messages"). */
export function systemText(body: Body, nameOf: (id: string) => string): string {
  const actor = typeof body.actor === 'string' ? nameOf(body.actor) : 'Someone';
  const targets = Array.isArray(body.targets)
    ? body.targets.filter((t): t is string => typeof t === 'string').map(nameOf)
    : [];
  const who = targets.join(', ');
  switch (body.event) {
    case 'group.created':
      return `${actor} created the group`;
    case 'member.added':
      return `${actor} added ${who}`;
    case 'member.removed':
      return `${actor} removed ${who}`;
    case 'member.left':
      return body.dismissed === true ? `${actor} left; the group was closed` : `${actor} left`;
    case 'member.joined':
      return `${actor} joined with an invite code`;
    case 'role.changed':
      return `${actor} made ${who} ${body.role === 'admin' ? 'an admin' : 'a member'}`;
    case 'owner.transferred':
      return `${actor} made ${who} the owner`;
    case 'title.changed':
      return `${actor} renamed the group to “${typeof body.title === 'string' ? body.title : ''}”`;
    case 'muted':
      if (targets.length === 0) {
        return body.muted === true ? `${actor} muted the group` : `${actor} unmuted the group`;
      }
      return body.muted === true ? `${actor} muted ${who}` : `${actor} unmuted ${who}`;
    case 'history.changed':
      return body.history === 'full'
        ? `${actor} let new members read the whole history`
        : `${actor} let new members read from their joining on`;
    case 'dismissed':
      return `${actor} closed the group`;
    default:
      return `${actor} changed the group`;
  }
}
