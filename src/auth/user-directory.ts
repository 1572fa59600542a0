import type { AuthStore, User } from './auth-store.js';

// Usernames never change, so id → username can be cached for the life of the process. The cache
// is bounded: when full it is dropped whole, which costs one store read per name to refill.
const ENTRIES_MAX = 100_000;

export class UserDirectory {
  private readonly store: AuthStore;
  private readonly names = new Map<string, string>();

  constructor(store: AuthStore) {
    this.store = store;
  }

  /** id → username for the given ids that exist. */
  async usernames(ids: Iterable<string>): Promise<Map<string, string>> {
    const result = new Map<string, string>();
    const missing: string[] = [];
    for (const id of ids) {
      const name = this.names.get(id);
      if (name !== undefined) result.set(id, name);
      else missing.push(id);
    }
    if (missing.length > 0) {
      for (const user of await this.store.getUsers(missing)) {
        this.remember(user);
        result.set(user.id, user.username);
      }
    }
    return result;
  }

  /** The users with these (case-folded) names that exist, keyed by username. */
  async byUsername(usernames: readonly string[]): Promise<Map<string, User>> {
    const users = await this.store.findUsersByUsernames(usernames);
    for (const user of users) this.remember(user);
    return new Map(users.map((u) => [u.username, u]));
  }

  /** Creates the missing users without password (seed open mode) and returns all, in order. */
  async ensure(usernames: readonly string[]): Promise<User[]> {
    const users = await this.store.ensureUsers(usernames);
    for (const user of users) this.remember(user);
    return users;
  }

  private remember(user: User): void {
    if (this.names.size >= ENTRIES_MAX) this.names.clear();
    this.names.set(user.id, user.username);
  }
}
