import type pg from 'pg';
import { ParleyError } from '../../core/errors.js';
import type { Clock } from '../../core/clock.js';
import type { Conversation } from '../../messaging/store/index.js';
import type { ConversationStore } from '../../messaging/store/index.js';
import { inTransaction } from './database.js';
import { ROOM_PREFIX, directKey, type ConversationRow } from '../rows.js';
import { addMembers, findConversation, insertConversation } from './postgres-messaging.js';

/** ConversationStore on PostgreSQL; the contract is the port's (messaging/store/conversations.ts). */
export class PostgresConversationStore implements ConversationStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly clock: Clock,
  ) {}

  async openDirect(
    userA: string,
    userB: string,
  ): Promise<{ conversation: Conversation; created: boolean }> {
    const key = directKey(userA, userB);
    const found = await findConversation(this.pool, 'name', key);
    if (found) return { conversation: found, created: false };
    return inTransaction(this.pool, async (client) => {
      const conversation = await insertConversation(client, this.clock, {
        kind: 'direct',
        name: key,
        title: null,
      });
      if (!conversation) {
        // A concurrent call created it; ON CONFLICT waited for its commit, so it is visible.
        const winner = await findConversation(client, 'name', key);
        if (!winner) throw new Error(`openDirect: ${key} vanished`);
        return { conversation: winner, created: false };
      }
      await addMembers(client, this.clock, conversation.id, [userA, userB], 'member');
      return { conversation, created: true };
    });
  }

  findDirect(userA: string, userB: string): Promise<Conversation | null> {
    return findConversation(this.pool, 'name', directKey(userA, userB));
  }

  async joinRoom(
    name: string,
    userId: string,
  ): Promise<{ conversation: Conversation; created: boolean }> {
    const key = ROOM_PREFIX + name;
    return inTransaction(this.pool, async (client) => {
      const inserted = await insertConversation(client, this.clock, {
        kind: 'room',
        name: key,
        title: null,
      });
      const conversation = inserted ?? (await findConversation(client, 'name', key));
      if (!conversation) throw new Error(`joinRoom: ${key} vanished`);
      // joinedSeq is read in the same statement that inserts the member.
      await client.query(
        `INSERT INTO members (conversation_id, user_id, role, joined_seq, joined_at_ms, updated_us)
         SELECT id, $2, 'member', last_seq, $3, $4 FROM conversations WHERE id = $1
         ON CONFLICT (conversation_id, user_id) DO UPDATE
           SET left_seq = NULL, joined_seq = EXCLUDED.joined_seq, updated_us = EXCLUDED.updated_us
         WHERE members.left_seq IS NOT NULL`,
        [conversation.id, userId, this.clock.nowMs(), this.clock.nowUs()],
      );
      return { conversation, created: inserted !== null };
    });
  }

  leaveRoom(conversationId: string, userId: string): Promise<boolean> {
    return inTransaction(this.pool, async (client) => {
      // The conversation's row lock orders the leave with appends, as for group changes.
      const { rows } = await client.query<Pick<ConversationRow, 'kind' | 'last_seq'>>(
        'SELECT kind, last_seq FROM conversations WHERE id = $1 FOR UPDATE',
        [conversationId],
      );
      const conv = rows[0];
      if (!conv) throw new ParleyError('conversation_not_found');
      if (conv.kind !== 'room') throw new ParleyError('invalid_request', 'Not a room.');
      const left = await client.query(
        `UPDATE members SET left_seq = $1, updated_us = $2
          WHERE conversation_id = $3 AND user_id = $4 AND left_seq IS NULL`,
        [conv.last_seq, this.clock.nowUs(), conversationId, userId],
      );
      if ((left.rowCount ?? 0) > 0) return true;
      const { rowCount } = await client.query(
        'SELECT 1 FROM members WHERE conversation_id = $1 AND user_id = $2',
        [conversationId, userId],
      );
      if (!rowCount) throw new ParleyError('not_member');
      return false;
    });
  }

  findRoom(name: string): Promise<Conversation | null> {
    return findConversation(this.pool, 'name', ROOM_PREFIX + name);
  }

  getConversation(id: string): Promise<Conversation | null> {
    return findConversation(this.pool, 'id', id);
  }
}
