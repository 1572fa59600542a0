// The shapes the components read: conversations, timelines, messages, notices and contacts as
// this user sees them, apart from the SDK's wire shapes so the screen does not follow the wire.
import type {
  AnyBody as Body,
  ContactEntry,
  Conversation,
  HistoryVisibility,
  Role,
} from 'parley/sdk';

/** One emoji's reactions on a message, as this user sees them. */
export interface ReactionView {
  readonly emoji: string;
  readonly count: number;
  readonly me: boolean;
}

export interface MessageView {
  readonly conversation: string;
  readonly seq: number;
  readonly id: string;
  readonly sender: string;
  readonly body: Body;
  readonly at: number;
  readonly recalled: boolean;
  readonly editedAt: number | null;
  readonly reactions: readonly ReactionView[];
}

export interface MemberView {
  readonly id: string;
  readonly username: string;
  readonly role: Role;
  readonly muted: boolean;
  readonly deliveredSeq: number;
  readonly readSeq: number;
}

export interface ConversationView {
  readonly id: string;
  readonly kind: Conversation['kind'];
  /** The group's title, the room's name, or the other user's name. */
  readonly title: string;
  /** Direct conversations: the other user. */
  readonly peer: string | null;
  readonly lastSeq: number;
  readonly readSeq: number;
  readonly deliveredSeq: number;
  readonly lastAt: number;
  readonly mentions: number;
  readonly last: MessageView | null;
  readonly role: Role | null;
  readonly members: ReadonlyMap<string, MemberView> | null;
  readonly groupMuted: boolean;
  /** Groups: what a new member may read (docs/groups.md). */
  readonly history: HistoryVisibility;
  readonly dismissed: boolean;
  readonly pinned: boolean;
  /** This user muted the conversation's notifications (on every device). */
  readonly notificationsMuted: boolean;
}

export interface Timeline {
  /** Ascending seq, each seq once. */
  readonly messages: readonly MessageView[];
  /** Older messages exist on the server. */
  readonly hasOlder: boolean;
  readonly loadingOlder: boolean;
}

export type Notice = {
  readonly kind: 'error' | 'info';
  readonly text: string;
  readonly id: number;
  /** The dialog it was raised in (shown inside it), or undefined (a toast). */
  readonly dialog?: number;
};

/** What ended the session, for the screen that follows. */
export type Ending = 'kicked' | 'expired' | 'deleted' | null;

export type TickState = 'sending' | 'sent' | 'delivered' | 'read';

/** The user's contact lists (docs/rest-api.md, contacts), as the contacts dialog shows them. */
export interface ContactLists {
  readonly contacts: readonly ContactEntry[];
  readonly incoming: readonly ContactEntry[];
  readonly outgoing: readonly ContactEntry[];
  readonly blocked: readonly ContactEntry[];
}

export type ContactAction =
  'request' | 'accept' | 'decline' | 'cancel' | 'remove' | 'block' | 'unblock';
