import type { ConversationStore } from './conversations.js';
import type { GroupStore } from './groups.js';
import type { InboxStore } from './inbox.js';
import type { MessageActionStore } from './message-actions.js';
import type { MessageLog } from './message-log.js';
import type { MemberStore } from './members.js';
import type { SearchStore } from './search.js';

// The messaging store ports: seven small seams over one set of tables. Each states its own
// contract in its file and has its own contract suite (`*.contract.ts` beside it), which every
// backend runs (storage/sqlite, storage/postgres).
//
// What holds for every port:
// - Reads return committed data only. Methods never return objects the store keeps using.
// - Writes to one conversation (an append, a group change, a message action, a room leave) are
//   serialized: each reads and writes its conversation's head in one transaction.
// - Former members: a member who leaves or is removed keeps its row with `leftSeq` set to the seq
//   of the system message that recorded it (a room: its lastSeq then). Current-member reads
//   (getMember, listMembers, listConversations) skip it; getMembership sees both; a write in its
//   name is refused with not_member.
// - Reads for a viewer (`viewerId` on a page, getMessage's viewer, marks, search, changes): only
//   seqs in the viewer's window come back: after joinedSeq when the group's history is 'join',
//   and up to leftSeq for a former member. A user with no row at all gets not_member.

export type { ConversationStore } from './conversations.js';
export type { MemberStore } from './members.js';
export type { InboxStore } from './inbox.js';
export type { AppendRequest, AppendResult, MessageLog, SeqPage, TimePage } from './message-log.js';
export type {
  MessageActionState,
  MessageActionStore,
  MessageJudge,
  ReactionChange,
  ReactionResult,
} from './message-actions.js';
export type {
  GroupAction,
  GroupChange,
  GroupChangeResult,
  GroupPlan,
  GroupPlanner,
  GroupState,
  GroupStore,
  NewGroup,
} from './groups.js';
export type { SearchPage, SearchQuery, SearchStore } from './search.js';

/** One backend's implementation of every messaging port, over one database. */
export interface MessageStores {
  readonly conversations: ConversationStore;
  readonly members: MemberStore;
  readonly inbox: InboxStore;
  readonly log: MessageLog;
  readonly actions: MessageActionStore;
  readonly groups: GroupStore;
  readonly search: SearchStore;
}

// What storage needs besides the ports: the model they carry, and how a body becomes
// searchable text (one definition for every backend's index and for the query).
export type * from '../model.js';
export {
  SEARCH_FIELDS,
  SEARCH_QUERY_CHARS_MAX,
  SEARCH_WORDS_MAX,
  SEARCH_WORD_CHARS_MAX,
  hasSearchableText,
  lastWordIsPrefix,
  searchWords,
  searchableText,
} from './search-text.js';
