import type { User, UserStore } from './store/index.js';

// Users are never renamed, so id ↔ username can be cached for the life of the process, on every
// node alike. The caches are bounded: when one is full it is dropped whole, which costs one store
// read per name to refill. Only users that exist are cached, never a miss.
const ENTRIES_MAX = 100_000;

export class UserDirectory {
  private readonly store: UserStore;
  private readonly byId = new Map<string, User>();
  private readonly byName = new Map<string, User>();

  constructor(store: UserStore) {
    this.store = store;
  }

  /** id → username for the given ids that exist. */
  async usernames(ids: Iterable<string>): Promise<Map<string, string>> {
    const result = new Map<string, string>();
    const missing: string[] = [];
    for (const id of ids) {
      const user = this.byId.get(id);
      if (user) result.set(id, user.username);
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
    const { found, missing } = this.cached(usernames);
    if (missing.length > 0) {
      for (const user of await this.store.findUsersByUsernames(missing)) {
        this.remember(user);
        found.set(user.username, user);
      }
    }
    return found;
  }

  /** Creates the missing users without password (seed open mode) and returns all, in order. */
  async ensure(usernames: readonly string[]): Promise<User[]> {
    const { found, missing } = this.cached(usernames);
    if (missing.length > 0) {
      for (const user of await this.store.ensureUsers(missing)) {
        this.remember(user);
        found.set(user.username, user);
      }
    }
    return usernames.map((name) => found.get(name)!);
  }

  private cached(usernames: readonly string[]): { found: Map<string, User>; missing: string[] } {
    const found = new Map<string, User>();
    const missing: string[] = [];
    for (const name of usernames) {
      const user = this.byName.get(name);
      if (user) found.set(name, user);
      else missing.push(name);
    }
    return { found, missing };
  }

  private remember(user: User): void {
    if (this.byId.size >= ENTRIES_MAX) {
      this.byId.clear();
      this.byName.clear();
    }
    this.byId.set(user.id, user);
    this.byName.set(user.username, user);
  }
}
