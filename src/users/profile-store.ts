// The ProfileStore seam: what users show each other (display name, bio, avatar), and finding
// users by username prefix.
//
// Contract (every backend; proven by profile-store.contract.ts):
// - Every user has a profile; one never edited has null fields and `updatedAtMs` null.
// - update(userId, patch) sets the fields present in the patch (null clears one), leaves the
//   others as they were, and returns the profile after the change; null for an unknown user.
//   Field values reach the store already validated.
// - search(prefix, page) returns users whose username starts with `prefix` (already case-folded,
//   only username characters), in ascending username order (byte order), after the exclusive
//   `after`, at most `limit`. It is an index range scan on usernames: its cost grows with the
//   page, not with the number of users.
// - Reads return committed data only.

export interface Profile {
  readonly userId: string;
  readonly username: string;
  readonly displayName: string | null;
  readonly bio: string | null;
  /** An attachment id, as the client gave it. */
  readonly avatar: string | null;
  readonly updatedAtMs: number | null;
}

export interface ProfilePatch {
  readonly displayName?: string | null;
  readonly bio?: string | null;
  readonly avatar?: string | null;
}

export interface SearchPage {
  readonly after?: string;
  readonly limit: number;
}

export interface ProfileStore {
  get(userId: string): Promise<Profile | null>;
  getByUsername(username: string): Promise<Profile | null>;
  update(userId: string, patch: ProfilePatch): Promise<Profile | null>;
  search(prefix: string, page: SearchPage): Promise<Profile[]>;
  close(): Promise<void>;
}

/** Above every username character ([a-z0-9_.-]): the exclusive upper bound of a prefix range. */
export const PREFIX_END = '\u007f';
