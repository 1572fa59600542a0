import { ParleyError, asError } from '../core/errors.js';
import type { Limits } from '../core/limits.js';
import type { Clock } from '../core/clock.js';
import { isId } from '../core/ids.js';
import type { MessagingHub, ReactionChanged } from './events.js';
import type { GroupCommitter } from './group-commit.js';
import type { Membership } from './membership.js';
import {
  ATTACHMENT_KINDS,
  validateBody,
  validateEditBody,
  validateReaction,
  validateRef,
} from './message-body.js';
import { editJudge, mayModerate, reactJudge } from './message-rules.js';
import { searchWords } from './store/index.js';
import { viewedMessages } from './message-view.js';
import type {
  AttachmentUse,
  Caller,
  Page,
  SendOutcome,
  StoredMessage,
  ViewedMessage,
} from './model.js';
import type {
  AppendRequest,
  MessageActionStore,
  MessageLog,
  MemberStore,
  SearchPage,
  SearchStore,
  SeqPage,
} from './store/index.js';

/** What the message service needs. */
export interface MessageServiceDeps {
  readonly store: {
    readonly log: MessageLog;
    readonly members: MemberStore;
    readonly actions: MessageActionStore;
    readonly search: SearchStore;
  };
  readonly committer: GroupCommitter;
  readonly events: MessagingHub;
  readonly membership: Membership;
  readonly limits: Limits;
  readonly clock: Clock;
  readonly attachmentUse: AttachmentUse | undefined;
}

/**
 * Messages: sending (through group commit), reading a conversation's history, search, and what
 * is done to a message after it is sent (recall, edit, react, hide). Shared by every interface
 * (REST, seed API, real time, gRPC).
 */
export class MessageService {
  private readonly store: MessageServiceDeps['store'];
  private readonly committer: GroupCommitter;
  private readonly events: MessagingHub;
  private readonly membership: Membership;
  private readonly limits: Limits;
  private readonly clock: Clock;
  private readonly attachmentUse: AttachmentUse | undefined;

  constructor(deps: MessageServiceDeps) {
    this.store = deps.store;
    this.committer = deps.committer;
    this.events = deps.events;
    this.membership = deps.membership;
    this.limits = deps.limits;
    this.clock = deps.clock;
    this.attachmentUse = deps.attachmentUse;
    // Blocks, reply targets and attachment uses are checked per batch inside the committer, not
    // before submitting: a lookup awaited here would let pipelined sends of one connection
    // overtake each other and reorder seqs. Plain sends cost at most one map lookup.
    this.committer.setVetter((requests) => this.vetBatch(requests));
  }

  /** Validates, then stores through group commit. Resolves only after the commit. */
  send(caller: Caller, conversationId: string, ref: unknown, body: unknown): Promise<SendOutcome> {
    return new Promise((resolve, reject) =>
      this.sendThen(caller, conversationId, ref, body, (err, outcome) =>
        outcome ? resolve(outcome) : reject(asError(err)),
      ),
    );
  }

  /**
   * send() for the real-time hot path, without a promise: throws a coded error at once for a
   * request that fails validation, else calls `done` once, after the commit (or with the error
   * that refused or failed the send). `done` must not throw.
   */
  sendThen(
    caller: Caller,
    conversationId: string,
    ref: unknown,
    body: unknown,
    done: (err: unknown, outcome?: SendOutcome) => void,
  ): void {
    if (!isId(conversationId)) throw new ParleyError('conversation_not_found');
    const request = {
      conversationId,
      senderId: caller.userId,
      device: caller.device,
      ref: validateRef(ref, this.limits),
      body: validateBody(body, this.limits),
    };
    this.committer.enqueue(request, (result, error) => {
      if (!result) return done(error);
      if (!result.ok) return done(result.error);
      if (!result.duplicate) {
        try {
          this.events.messageStored(result.message, result.previousAtUs);
        } catch (err) {
          return done(err);
        }
      }
      done(null, { message: result.message, duplicate: result.duplicate });
    });
  }

  /**
   * Current and former members read; the store keeps each to its window (docs/groups.md). Each
   * message comes with its reactions, and as `{kind: "hidden"}` if the caller hid it.
   */
  async history(
    caller: Caller,
    conversationId: string,
    page: SeqPage,
  ): Promise<{ messages: ViewedMessage[]; hasMore: boolean }> {
    if (!isId(conversationId)) throw new ParleyError('conversation_not_found');
    const read: Page = await this.store.log.pageBySeq(conversationId, {
      ...page,
      limit: this.pageLimit(page.limit),
      bytesMax: this.limits.pageBytesMax,
      viewerId: caller.userId,
    });
    return {
      messages: await viewedMessages(
        this.store.actions,
        caller.userId,
        conversationId,
        read.messages,
      ),
      hasMore: read.hasMore,
    };
  }

  /**
   * A page of a conversation by time (the seed API's pull, docs/seed-api.md). With a reader,
   * only a current member may read (not_member, from the member cache); without one (the seed
   * API's open mode), anyone may. Bounded as history is (pageLimit, limits.pageBytesMax).
   */
  async timeline(
    readerId: string | null,
    conversationId: string,
    page: { readonly cursorUs: number; readonly newestFirst: boolean; readonly limit?: number },
  ): Promise<Page> {
    if (readerId !== null && !(await this.membership.isMember(conversationId, readerId))) {
      throw new ParleyError('not_member');
    }
    return this.store.log.pageByTime(conversationId, {
      cursorUs: page.cursorUs,
      newestFirst: page.newestFirst,
      limit: this.pageLimit(page.limit),
      bytesMax: this.limits.pageBytesMax,
    });
  }

  /**
   * Message search (docs/messages.md#search): in one conversation the caller is or was a member
   * of, or in every one. invalid_search for a query without words; `limit` defaults to 20 and is
   * capped at limits.messageSearchCountMax.
   */
  async search(
    caller: Caller,
    query: { q: unknown; conversationId?: string; before?: string; limit?: number },
  ): Promise<SearchPage> {
    const words = searchWords(query.q);
    const { conversationId, before } = query;
    if (conversationId !== undefined && !isId(conversationId)) {
      throw new ParleyError('conversation_not_found');
    }
    return this.store.search.searchMessages({
      viewerId: caller.userId,
      words,
      ...(conversationId !== undefined ? { conversationId } : {}),
      ...(before !== undefined ? { before } : {}),
      limit: Math.min(query.limit ?? 20, this.limits.messageSearchCountMax),
    });
  }

  /**
   * Recalls a message; its body is deleted for good. The sender may, within the recall window;
   * in a group, the owner and admins may recall messages of users ranked below them (and their
   * own) at any time (see mayModerate). Only messages the caller can see; never system ones.
   */
  async recall(caller: Caller, conversationId: string, seq: number): Promise<StoredMessage> {
    const conversation = await this.membership.requireMember(conversationId, caller.userId);
    const [message, actor] = await Promise.all([
      this.store.log.getMessage(conversationId, seq, caller.userId),
      this.store.members.getMember(conversationId, caller.userId),
    ]);
    if (!message) throw new ParleyError('message_not_found');
    if (!actor) throw new ParleyError('not_member');
    if (message.body.kind === 'system') {
      throw new ParleyError('forbidden', 'System messages cannot be recalled.');
    }
    if (message.recalledAtUs !== null) return message;
    if (conversation.dismissedAtMs !== null) throw new ParleyError('group_dismissed');
    const own = message.senderId === caller.userId;
    const senderRole = own
      ? actor.role
      : ((await this.store.members.getMember(conversationId, message.senderId))?.role ?? null);
    const moderator = own
      ? conversation.kind === 'group' && actor.role !== 'member'
      : mayModerate(conversation, actor, senderRole);
    if (!own && !moderator) {
      throw new ParleyError('forbidden', 'Only the sender or a group admin may recall a message.');
    }
    if (!moderator && this.clock.nowUs() - message.atUs > this.limits.recallWindowMs * 1000) {
      throw new ParleyError('recall_expired');
    }
    const recalled = await this.store.log.recall(conversationId, seq);
    if (!recalled) throw new ParleyError('message_not_found');
    this.events.messageRecalled(recalled, caller);
    return recalled;
  }

  /**
   * The sender replaces the text (and mentions) of its own text message within the edit window
   * (docs/messages.md#edit). Refused, with nothing changed: a recalled message, another's, a
   * kind other than text, after the window, and whatever would refuse a send here.
   */
  async edit(
    caller: Caller,
    conversationId: string,
    seq: number,
    body: unknown,
  ): Promise<StoredMessage> {
    if (!isId(conversationId)) throw new ParleyError('conversation_not_found');
    const checked = validateEditBody(body, this.limits);
    await this.membership.assertMayAct(caller.userId, conversationId);
    const edited = await this.store.actions.editMessage(
      conversationId,
      seq,
      caller.userId,
      editJudge(caller.userId, checked, this.clock.nowUs(), this.limits.editWindowMs),
    );
    this.events.messageEdited(edited, caller);
    return edited;
  }

  /**
   * Adds (`add`) or removes the caller's reaction to a message. Idempotent: adding twice or
   * removing what is not there changes nothing and pushes nothing.
   */
  async react(
    caller: Caller,
    conversationId: string,
    seq: number,
    emoji: unknown,
    add: boolean,
  ): Promise<ReactionChanged> {
    if (!isId(conversationId)) throw new ParleyError('conversation_not_found');
    const checked = validateReaction(emoji, this.limits);
    await this.membership.assertMayAct(caller.userId, conversationId);
    const result = await this.store.actions.react(
      { conversationId, seq, userId: caller.userId, emoji: checked, add },
      reactJudge(checked, add, this.limits.reactionsPerUserMax),
    );
    const change: ReactionChanged = {
      conversationId,
      seq,
      userId: caller.userId,
      emoji: checked,
      removed: !add,
      count: result.count,
      atUs: this.clock.nowUs(),
    };
    if (result.changed) this.events.reactionChanged(change, caller);
    return change;
  }

  /**
   * Delete for me: hides a message the caller can read (a former member too, within its window)
   * from the caller's own reads; nobody else is affected. Hiding twice is harmless.
   */
  async hide(caller: Caller, conversationId: string, seq: number): Promise<void> {
    if (!isId(conversationId)) throw new ParleyError('conversation_not_found');
    const message = await this.store.log.getMessage(conversationId, seq, caller.userId);
    if (!message) throw new ParleyError('message_not_found');
    if (await this.store.actions.hideMessage(conversationId, seq, caller.userId)) {
      this.events.messageHidden(conversationId, seq, caller);
    }
  }

  /**
   * A batch's verdicts. The common case (a plain body, a direct conversation whose members and
   * block state are cached, or any other conversation) is answered from memory with no promise
   * per send; only the sends that need a lookup go through the async checks.
   */
  private vetBatch(
    requests: readonly AppendRequest[],
  ): (ParleyError | null)[] | Promise<(ParleyError | null)[]> {
    const verdicts: (ParleyError | null)[] = new Array<ParleyError | null>(requests.length);
    let slow: Promise<void>[] | null = null;
    for (let i = 0; i < requests.length; i++) {
      const request = requests[i]!;
      const known = this.vetFromMemory(request);
      if (known !== undefined) verdicts[i] = known;
      else (slow ??= []).push(this.vet(request).then((v) => void (verdicts[i] = v)));
    }
    return slow === null ? verdicts : Promise.all(slow).then(() => verdicts);
  }

  /** The verdict when memory alone can give it, else undefined (see vetBatch). */
  private vetFromMemory(request: AppendRequest): ParleyError | null | undefined {
    const { body } = request;
    if (typeof body.replyTo === 'number' || ATTACHMENT_KINDS.has(body.kind)) return undefined;
    return this.membership.knownVerdict(request.senderId, request.conversationId);
  }

  /**
   * One send's checks before it is stored; resolves to the refusal, or null. Blocks: only sends
   * to direct conversations ask the guard; others cost one map lookup. Then the body's
   * references (docs/messages.md): replyTo must name a message the sender can see, and an
   * attachment must be one the sender may use here (that use is recorded now, before the commit).
   */
  private async vet(request: AppendRequest): Promise<ParleyError | null> {
    try {
      await this.membership.assertMayAct(request.senderId, request.conversationId);
      await this.vetReferences(request);
      return null;
    } catch (err) {
      if (err instanceof ParleyError) return err;
      throw err;
    }
  }

  private async vetReferences(request: AppendRequest): Promise<void> {
    const { body, conversationId, senderId } = request;
    const replyTo = typeof body.replyTo === 'number' ? body.replyTo : undefined;
    const attachment = ATTACHMENT_KINDS.has(body.kind) ? body.attachment : undefined;
    if (replyTo === undefined && typeof attachment !== 'string') return;
    // A sender who is not a member is left for the commit to refuse with its usual code
    // (not_member, conversation_not_found), as a plain send would be.
    if (!(await this.store.members.getMember(conversationId, senderId))) return;
    if (
      replyTo !== undefined &&
      !(await this.store.log.getMessage(conversationId, replyTo, senderId))
    ) {
      throw new ParleyError(
        'message_not_found',
        `body.replyTo: no message ${replyTo} in this conversation.`,
      );
    }
    if (typeof attachment === 'string') {
      if (!this.attachmentUse) {
        throw new ParleyError('invalid_request', 'This server does not take attachment messages.');
      }
      await this.attachmentUse(attachment, conversationId, senderId);
    }
  }

  pageLimit(asked: number | undefined): number {
    if (asked === undefined || !Number.isFinite(asked) || asked <= 0)
      return this.limits.pullCountDefault;
    return Math.min(Math.floor(asked), this.limits.pullCountMax);
  }
}
