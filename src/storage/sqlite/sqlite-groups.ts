import { ParleyError } from '../../core/errors.js';
import type {
  Conversation,
  Member,
  GroupChange,
  GroupChangeResult,
  GroupPlanner,
  GroupStore,
  NewGroup,
} from '../../messaging/store/index.js';
import { settle } from './database.js';
import type { SqliteMessaging } from './sqlite-messaging.js';
import { toMemberOrNull } from '../message-actions.js';
import { groupState, groupWrites } from '../group-change.js';
import { toConversation, type ConversationRow, type MemberRow } from '../rows.js';

function statements(m: SqliteMessaging) {
  const { db } = m;
  return {
    memberCount: db.prepare(
      'SELECT COUNT(*) AS n FROM members WHERE conversation_id = ? AND left_seq IS NULL',
    ),
    join: db.prepare(
      `INSERT INTO members (conversation_id, user_id, role, joined_seq, delivered_seq, read_seq,
                            joined_at_ms, updated_us)
       VALUES (@conversationId, @userId, 'member', @seq, @seq, @seq, @nowMs, @nowUs)
       ON CONFLICT (conversation_id, user_id) DO UPDATE SET
         role = 'member', joined_seq = @seq, delivered_seq = @seq, read_seq = @seq,
         joined_at_ms = @nowMs, updated_us = @nowUs, muted = 0, left_seq = NULL`,
    ),
    setRole: db.prepare(
      'UPDATE members SET role = ?, updated_us = ? WHERE conversation_id = ? AND user_id = ?',
    ),
    setMuted: db.prepare(
      'UPDATE members SET muted = ?, updated_us = ? WHERE conversation_id = ? AND user_id = ?',
    ),
    setSettings: db.prepare(
      `UPDATE conversations SET title = COALESCE(@title, title),
              muted_all = COALESCE(@mutedAll, muted_all), history = COALESCE(@history, history),
              dismissed_at_ms = COALESCE(dismissed_at_ms, @dismissedAtMs),
              avatar = CASE WHEN @setAvatar = 1 THEN @avatar ELSE avatar END
        WHERE id = @id`,
    ),
    insertMessage: db.prepare(
      `INSERT INTO messages (conversation_id, seq, id, sender_id, device, ref, body, at_us)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    setInvite: db.prepare('UPDATE conversations SET invite_code = ? WHERE id = ?'),
    invite: db.prepare('SELECT invite_code FROM conversations WHERE id = ?').pluck(),
    byInvite: db.prepare('SELECT * FROM conversations WHERE invite_code = ?'),
  };
}

/** GroupStore on SQLite; its contract is in messaging/store/groups.ts. */
export class SqliteGroups implements GroupStore {
  private readonly m: SqliteMessaging;
  private readonly q: ReturnType<typeof statements>;

  constructor(m: SqliteMessaging) {
    this.m = m;
    this.q = statements(m);
  }

  createGroup(group: NewGroup): Promise<Conversation> {
    return this.m.write(() => {
      const conversation = this.m.insertConversation(
        'group',
        null,
        group.title,
        group.history ?? 'join',
      );
      this.m.addMember(conversation.id, group.ownerId, 'owner', 0);
      for (const id of group.memberIds) this.m.addMember(conversation.id, id, 'member', 0);
      return conversation;
    });
  }

  changeGroup(change: GroupChange, planner: GroupPlanner): Promise<GroupChangeResult> {
    return this.m.write(() => this.applyChange(change, planner));
  }

  setInvite(
    conversationId: string,
    actorId: string,
    code: string | null,
    judge: (conversation: Conversation, actor: Member | null, current: string | null) => void,
  ): Promise<void> {
    return this.m.write(() => {
      const row = this.m.conversationRow(conversationId);
      if (!row) throw new ParleyError('conversation_not_found');
      const actor = this.m.memberRow(conversationId, actorId);
      judge(toConversation(row), toMemberOrNull(actor), row.invite_code);
      this.q.setInvite.run(code, conversationId);
    });
  }

  getInvite(conversationId: string): Promise<string | null> {
    return settle(() => (this.q.invite.get(conversationId) as string | null | undefined) ?? null);
  }

  findByInvite(code: string): Promise<Conversation | null> {
    return settle(() => {
      const row = this.q.byInvite.get(code) as ConversationRow | undefined;
      return row ? toConversation(row) : null;
    });
  }

  /** The body of changeGroup's transaction; SQLite's write lock serializes it with appends. */
  private applyChange(change: GroupChange, planner: GroupPlanner): GroupChangeResult {
    const { conversationId } = change;
    const convRow = this.m.conversationRow(conversationId);
    if (!convRow) throw new ParleyError('conversation_not_found');
    const rows: MemberRow[] = [];
    for (const id of new Set([change.actorId, ...change.targetIds])) {
      const row = this.m.membershipRow(conversationId, id);
      if (row) rows.push(row);
    }
    const { n } = this.q.memberCount.get(conversationId) as { n: number };
    const plan = planner(groupState(convRow, rows, change, n));
    const w = groupWrites(convRow, change, plan, {
      ms: this.m.clock.nowMs(),
      us: this.m.clock.nowUs(),
    });
    const { message, atUs } = w;
    const { seq } = message;
    const body = JSON.stringify(plan.body);
    this.q.insertMessage.run(
      conversationId,
      seq,
      message.id,
      message.senderId,
      message.device,
      w.ref,
      body,
      atUs,
    );
    this.m.writeSideRows(conversationId, seq, plan.body);
    this.m.q.setLast.run(seq, atUs, conversationId);
    for (const userId of w.join.userIds) {
      this.q.join.run({
        conversationId,
        userId,
        seq: w.join.joinedSeq,
        nowMs: w.nowMs,
        nowUs: atUs,
      });
    }
    for (const userId of w.leave) this.m.q.leave.run(seq, atUs, conversationId, userId);
    for (const r of w.roles) this.q.setRole.run(r.role, atUs, conversationId, r.userId);
    for (const m of w.mute) this.q.setMuted.run(m.muted ? 1 : 0, atUs, conversationId, m.userId);
    const settings = w.settings;
    this.q.setSettings.run({
      id: conversationId,
      title: settings.title,
      mutedAll: settings.mutedAll === null ? null : settings.mutedAll ? 1 : 0,
      history: settings.history,
      dismissedAtMs: settings.dismissedAtMs,
      setAvatar: settings.setAvatar ? 1 : 0,
      avatar: settings.avatar,
    });
    this.m.q.raiseRead.run({ seq, now: atUs, conversationId, userId: w.readBy });
    const after = this.m.conversationRow(conversationId)!;
    return { conversation: toConversation(after), message, plan };
  }
}
