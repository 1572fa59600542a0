import type { SessionStore, UserStore } from '../auth/index.js';
import type { ContactsService } from '../contacts/index.js';
import { ParleyError } from '../core/errors.js';
import type { InboxStore, MessageLog } from '../messaging/store/index.js';
import { profileView, type ProfileStore } from '../users/index.js';
import type { ExportDeps } from './data-export.js';

/** Where an export reads from: each capability's own store or service. */
export interface ExportSources {
  readonly users: Pick<UserStore, 'getUsers'>;
  readonly sessions: Pick<SessionStore, 'listSessions'>;
  readonly profiles: Pick<ProfileStore, 'getByUsername'>;
  readonly contacts: Pick<ContactsService, 'list'>;
  readonly inbox: Pick<InboxStore, 'listConversations'>;
  readonly log: Pick<MessageLog, 'sentBy'>;
}

/** The export's reads (ExportDeps), from the capabilities that hold the data. */
export function exportDeps(sources: ExportSources): ExportDeps {
  const { users, sessions, profiles, contacts, inbox, log } = sources;
  return {
    account: async (userId) => {
      const [user] = await users.getUsers([userId]);
      if (!user) throw new ParleyError('user_not_found');
      return user;
    },
    profile: async (username) => {
      const found = await profiles.getByUsername(username);
      return found ? profileView(found) : null;
    },
    devices: (userId) => sessions.listSessions(userId),
    contacts: (userId, username, kind, after, limit) =>
      contacts.list({ userId, username }, kind, { after, limit }),
    conversations: (userId) => inbox.listConversations(userId),
    sentBy: (userId, after, limit) => log.sentBy(userId, after, limit),
    nowMs: () => Date.now(),
  };
}
