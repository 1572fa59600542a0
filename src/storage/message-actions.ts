import type { Member, StoredMessage } from '../messaging/model.js';
import type {
  ConversationStore,
  GroupStore,
  InboxStore,
  MemberStore,
  MessageActionState,
  MessageActionStore,
  MessageLog,
  MessageStores,
  SearchStore,
} from '../messaging/store/index.js';
import {
  readWindow,
  toConversation,
  toMember,
  type ConversationRow,
  type MemberRow,
} from './rows.js';

// What the message actions of both SQL backends share: the seam each backend's *MessageActions
// implements, the store half that forwards to it, and the judge's view built from the rows the
// backend read (each backend keeps only its SQL and its locking).

/** The MessageStore methods a backend's *MessageActions implements and its store forwards. */
/** Every messaging port, as one SQL store class still implements them (transitional). */
export type AllMessagePorts = ConversationStore &
  MemberStore &
  InboxStore &
  MessageLog &
  MessageActionStore &
  GroupStore &
  SearchStore;

/** The bundle of ports, each of them the one class (transitional). */
export function portsOf(store: AllMessagePorts): MessageStores {
  return {
    conversations: store,
    members: store,
    inbox: store,
    log: store,
    actions: store,
    groups: store,
    search: store,
  };
}

export type MessageActions = Pick<
  AllMessagePorts,
  | 'editMessage'
  | 'react'
  | 'hideMessage'
  | 'marks'
  | 'summaries'
  | 'setPreferences'
  | 'setInvite'
  | 'getInvite'
  | 'findByInvite'
>;

type Args<K extends keyof MessageActions> = Parameters<MessageActions[K]>;
type Result<K extends keyof MessageActions> = ReturnType<MessageActions[K]>;

/** The part of a SQL MessageStore that hands the message actions to its backend's (signatures: the seam's). */
export abstract class ForwardsMessageActions implements MessageActions {
  /** Edits, reactions, hidden messages, summaries, preferences and invites. */
  private readonly actions: MessageActions;

  protected constructor(actions: MessageActions) {
    this.actions = actions;
  }

  editMessage(...args: Args<'editMessage'>): Result<'editMessage'> {
    return this.actions.editMessage(...args);
  }

  react(...args: Args<'react'>): Result<'react'> {
    return this.actions.react(...args);
  }

  hideMessage(...args: Args<'hideMessage'>): Result<'hideMessage'> {
    return this.actions.hideMessage(...args);
  }

  marks(...args: Args<'marks'>): Result<'marks'> {
    return this.actions.marks(...args);
  }

  summaries(...args: Args<'summaries'>): Result<'summaries'> {
    return this.actions.summaries(...args);
  }

  setPreferences(...args: Args<'setPreferences'>): Result<'setPreferences'> {
    return this.actions.setPreferences(...args);
  }

  setInvite(...args: Args<'setInvite'>): Result<'setInvite'> {
    return this.actions.setInvite(...args);
  }

  getInvite(...args: Args<'getInvite'>): Result<'getInvite'> {
    return this.actions.getInvite(...args);
  }

  findByInvite(...args: Args<'findByInvite'>): Result<'findByInvite'> {
    return this.actions.findByInvite(...args);
  }
}

/** A member row as the seam's Member, or null when there is none. */
export const toMemberOrNull = (row: MemberRow | undefined): Member | null =>
  row ? toMember(row) : null;

/** Whether the actor (a current member, or undefined) may act on the message at `seq`. */
export function actorSees(
  conversation: ConversationRow,
  actor: MemberRow | undefined,
  seq: number,
): actor is MemberRow {
  if (!actor) return false;
  const w = readWindow(conversation, actor);
  return seq > w.after && seq < w.before;
}

/**
 * The judge's view of a message action, from the rows the backend read: `message` is null
 * unless the actor sees it (actorSees), and `actorReactions` are read only when it is not.
 */
export function actionState(
  conversation: ConversationRow,
  actor: MemberRow | undefined,
  message: StoredMessage | null,
  actorReactions: string[],
): MessageActionState {
  return {
    conversation: toConversation(conversation),
    actor: toMemberOrNull(actor),
    message,
    actorReactions,
  };
}
