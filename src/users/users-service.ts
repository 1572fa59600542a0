import { ParleyError } from '../core/errors.js';
import type { Limits } from '../core/limits.js';
import { normalizeUsername } from '../core/names.js';
import type { Profile, ProfilePatch, ProfileStore } from './profile-store.js';

export interface ProfileList {
  readonly users: Profile[];
  /** The `after` of the next page, or null on the last one. */
  readonly next: string | null;
}

// Printable, single line: no control characters, which could forge log lines or break clients.
// eslint-disable-next-line no-control-regex
const LINE_RE = /^[^\u0000-\u001f\u007f]*$/;
// eslint-disable-next-line no-control-regex
const TEXT_RE = /^[^\u0000-\u0008\u000b-\u001f\u007f]*$/;
// An attachment id: its format belongs to the attachments capability; this only keeps it sane.
const ATTACHMENT_ID_RE = /^[A-Za-z0-9_.:-]{1,128}$/;
const PREFIX_RE = /^[a-z0-9_.-]{1,32}$/;

/**
 * Throws unless the user may make the attachment its avatar (its own image; the attachments
 * capability decides: AttachmentsService.checkAvatar).
 */
export type AvatarCheck = (userId: string, attachmentId: string) => Promise<void>;

/** Told about every profile change, after it is stored (the `profile` push: profile-push.ts). */
export interface ProfileSubscriber {
  profileChanged(profile: Profile): void;
}

/** Profiles and user search: the rules, shared by every interface. */
export class UsersService {
  private readonly store: ProfileStore;
  private readonly limits: Limits;
  private readonly checkAvatar: AvatarCheck | undefined;
  private readonly subscribers: ProfileSubscriber[] = [];

  constructor(deps: { store: ProfileStore; limits: Limits; checkAvatar?: AvatarCheck }) {
    this.store = deps.store;
    this.limits = deps.limits;
    this.checkAvatar = deps.checkAvatar;
  }

  async profile(username: unknown): Promise<Profile> {
    const name = normalizeUsername(username);
    const found = await this.store.getByUsername(name);
    if (!found) throw new ParleyError('user_not_found', `No user named "${name}".`);
    return found;
  }

  /** Sets the fields present (null or "" clears one); the others stay. */
  async update(userId: string, fields: Record<string, unknown>): Promise<Profile> {
    const patch: {
      displayName?: string | null;
      bio?: string | null;
      avatar?: string | null;
    } = {};
    const limits = this.limits;
    if ('displayName' in fields) {
      patch.displayName = text(
        fields.displayName,
        'displayName',
        limits.displayNameCharsMax,
        LINE_RE,
      );
    }
    if ('bio' in fields) patch.bio = text(fields.bio, 'bio', limits.bioCharsMax, TEXT_RE);
    if ('avatar' in fields) patch.avatar = text(fields.avatar, 'avatar', 128, ATTACHMENT_ID_RE);
    // Every field is valid before the avatar is looked up; a refusal changes nothing.
    if (patch.avatar) await this.checkAvatar?.(userId, patch.avatar);
    const updated = await this.store.update(userId, patch satisfies ProfilePatch);
    if (!updated) throw new ParleyError('user_not_found');
    if (Object.keys(patch).length > 0) for (const s of this.subscribers) s.profileChanged(updated);
    return updated;
  }

  subscribe(subscriber: ProfileSubscriber): void {
    this.subscribers.push(subscriber);
  }

  /** Users whose username starts with the (case-folded) prefix, by username, one page. */
  async search(prefix: unknown, page: { after?: string; limit?: number }): Promise<ProfileList> {
    const folded = typeof prefix === 'string' ? prefix.toLowerCase() : '';
    if (!PREFIX_RE.test(folded)) {
      throw new ParleyError(
        'invalid_request',
        'prefix is 1 to 32 characters of a-z, 0-9, "_", "." or "-".',
      );
    }
    const max = this.limits.userSearchCountMax;
    const limit = Math.min(page.limit ?? 20, max);
    const rows = await this.store.search(folded, {
      ...(page.after !== undefined ? { after: page.after.toLowerCase() } : {}),
      limit: limit + 1,
    });
    const users = rows.slice(0, limit);
    return { users, next: rows.length > limit ? (users.at(-1)?.username ?? null) : null };
  }
}

function text(value: unknown, field: string, max: number, re: RegExp): string | null {
  if (value === null || value === '') return null;
  if (typeof value !== 'string' || value.length > max || !re.test(value)) {
    throw new ParleyError('invalid_request', `${field} is at most ${max} valid characters.`);
  }
  return value;
}
