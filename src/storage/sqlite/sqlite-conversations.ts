import { ParleyError } from '../../core/errors.js';
import type { Conversation } from '../../messaging/store/index.js';
import type { ConversationStore } from '../../messaging/store/index.js';
import { settle } from './database.js';
import type { SqliteMessaging } from './sqlite-messaging.js';
import { ROOM_PREFIX, directKey, toConversation, type ConversationRow } from '../rows.js';

function statements(m: SqliteMessaging) {
  return {
    conversationByName: m.db.prepare('SELECT * FROM conversations WHERE name = ?'),
    rejoin: m.db.prepare(
      `UPDATE members SET left_seq = NULL, joined_seq = ?, updated_us = ?
        WHERE conversation_id = ? AND user_id = ? AND left_seq IS NOT NULL`,
    ),
  };
}

/** ConversationStore on SQLite; its contract is in messaging/store/conversations.ts. */
export class SqliteConversations implements ConversationStore {
  private readonly m: SqliteMessaging;
  private readonly q: ReturnType<typeof statements>;

  constructor(m: SqliteMessaging) {
    this.m = m;
    this.q = statements(m);
  }

  openDirect(
    userA: string,
    userB: string,
  ): Promise<{ conversation: Conversation; created: boolean }> {
    return this.m.write(() => {
      const key = directKey(userA, userB);
      const found = this.q.conversationByName.get(key) as ConversationRow | undefined;
      if (found) return { conversation: toConversation(found), created: false };
      const conversation = this.m.insertConversation('direct', key, null);
      this.m.addMember(conversation.id, userA, 'member', 0);
      this.m.addMember(conversation.id, userB, 'member', 0);
      return { conversation, created: true };
    });
  }

  findDirect(userA: string, userB: string): Promise<Conversation | null> {
    return settle(() => this.byName(directKey(userA, userB)));
  }

  joinRoom(
    name: string,
    userId: string,
  ): Promise<{ conversation: Conversation; created: boolean }> {
    return this.m.write(() => {
      const key = ROOM_PREFIX + name;
      const found = this.q.conversationByName.get(key) as ConversationRow | undefined;
      const conversation = found
        ? toConversation(found)
        : this.m.insertConversation('room', key, null);
      this.m.addMember(conversation.id, userId, 'member', conversation.lastSeq);
      // A former member (it left) becomes a current one again.
      this.q.rejoin.run(conversation.lastSeq, this.m.clock.nowUs(), conversation.id, userId);
      return { conversation, created: !found };
    });
  }

  leaveRoom(conversationId: string, userId: string): Promise<boolean> {
    return this.m.write(() => {
      const conv = this.m.conversationRow(conversationId);
      if (!conv) throw new ParleyError('conversation_not_found');
      if (conv.kind !== 'room') throw new ParleyError('invalid_request', 'Not a room.');
      const left = this.m.q.leave.run(conv.last_seq, this.m.clock.nowUs(), conversationId, userId);
      if (left.changes > 0) return true;
      if (!this.m.membershipRow(conversationId, userId)) throw new ParleyError('not_member');
      return false;
    });
  }

  findRoom(name: string): Promise<Conversation | null> {
    return settle(() => this.byName(ROOM_PREFIX + name));
  }

  getConversation(id: string): Promise<Conversation | null> {
    return settle(() => {
      const row = this.m.conversationRow(id);
      return row ? toConversation(row) : null;
    });
  }

  private byName(key: string): Conversation | null {
    const row = this.q.conversationByName.get(key) as ConversationRow | undefined;
    return row ? toConversation(row) : null;
  }
}
