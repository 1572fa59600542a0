import type { SearchPage, SearchQuery, SearchStore } from '../../messaging/store/index.js';
import { settle } from './database.js';
import type { SqliteMessageSearch } from './sqlite-message-search.js';
import type { SqliteMessaging } from './sqlite-messaging.js';

/**
 * SearchStore on SQLite; its contract is in messaging/store/search.ts. A small port of its own
 * rather than the index class implementing it: the index (sqlite-message-search.ts) also runs on
 * the append thread, which only drains it, and needs nothing but its connection; the port adds
 * the viewer's read window (with its not_member), which the shared module reads.
 */
export class SqliteSearch implements SearchStore {
  private readonly m: SqliteMessaging;
  private readonly index: SqliteMessageSearch;

  constructor(m: SqliteMessaging, index: SqliteMessageSearch) {
    this.m = m;
    this.index = index;
  }

  searchMessages(query: SearchQuery): Promise<SearchPage> {
    return settle(() =>
      query.conversationId === undefined
        ? this.index.search(query)
        : this.index.search(query, this.m.window(query.conversationId, query.viewerId)),
    );
  }
}
