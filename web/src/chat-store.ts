// The client's state and everything that changes it. It owns the SDK client (socket, outbox,
// catch-up) and the REST API, turns their events into conversations and timelines, and tells the
// components when something changed. Components read from it and call its methods; nothing else
// talks to the server.
import {
  createClient,
  isParleyClientError,
  LocalStorageOutbox,
  type AnyBody as Body,
  type SendableBody,
  type ClientState,
  type Conversation,
  type ChangedEvent,
  type ContactChangeEvent,
  type DeviceSession,
  type ConversationState,
  type Message,
  type OutboxEntry,
  type ParleyApi,
  type Profile,
  type ProfileChangeEvent,
  type ProfilePatch,
  type ParleyClient,
  type StateEvent,
} from 'parley/sdk';
import { previewOf } from './format.js';
import { navigate } from './router.js';
import { outboxKey, randomHex, type Session } from './session.js';
import {
  applyReaction,
  editedBody,
  imageSize,
  isGone,
  isWireMessage,
  mediaMeta,
  memberView,
  mergeMessages,
  newest,
  Notices,
  safeName,
  titleOf,
  toView,
  wireToMessage,
  type ContactAction,
  type ContactLists,
  type ConversationView,
  type Ending,
  type MessageView,
  type Notice,
  type TickState,
  type Timeline,
} from './store/index.js';

/** At most this many entries of each list are shown (the first page of each). */
const CONTACTS_PAGE = 100;

const PAGE_SIZE = 30;
/** Results per page of a message search. */
const SEARCH_PAGE_SIZE = 20;
/** Pages (or waits for one) `reveal` goes back at most: 1,200 messages at 30 a page. */
const REVEAL_STEPS_MAX = 40;
const TYPING_SHOWN_MS = 6000;
/** How long after a failed profile fetch (not a 404) it is tried again. */
const PROFILE_RETRY_MS = 5000;
const TYPING_SEND_EVERY_MS = 3000;
const DETAIL_FETCHES_MAX = 4;
/** Pages pulled at most to fill one hole in a timeline (the rest comes with scrolling). */
const TIMELINE_FILL_PAGES_MAX = 10;

const EMPTY_TIMELINE: Timeline = { messages: [], hasOlder: true, loadingOlder: false };

export class ChatStore {
  readonly me: Session['user'];
  readonly api: ParleyApi;
  #client: ParleyClient;
  readonly #session: Session;
  readonly #listeners = new Set<() => void>();
  readonly #notices = new Notices(() => this.#changed());
  #notifyQueued = false;

  connection: ClientState = 'idle';
  /** The link was up once: a drop after that shows the "reconnecting…" banner. */
  #everOnline = false;
  ending: Ending = null;
  activeId: string | null = null;
  /** The first conversation list arrived. */
  loaded = false;
  readonly conversations = new Map<string, ConversationView>();
  readonly timelines = new Map<string, Timeline>();
  readonly presence = new Map<string, boolean>();
  /** Opened conversations the server says do not exist or are not the user's: shown as such. */
  readonly unavailable = new Set<string>();
  readonly names = new Map<string, string>();
  /** A message to bring into view once its conversation shows it (a search result). */
  focus: { readonly conversation: string; readonly seq: number } | null = null;
  /** Loaded when first asked for (the contacts dialog), then kept current by `contact` pushes. */
  contactLists: ContactLists | null = null;
  #contactsGen = 0;
  #contactsReload: Promise<void> | null = null;
  /**
   * Profiles by username (null: no such user), fetched when first shown and then kept current by
   * `profile` pushes; a fetch that failed for another reason is tried again after a while. After a
   * reconnect (pushes may have been missed) each is fetched again when next shown, the old one
   * staying on screen meanwhile.
   */
  readonly #profiles = new Map<string, Profile | null>();
  readonly #profileLoads = new Set<string>();
  /** Set while this account's deletion is asked for (its link closes with 4401 meanwhile). */
  #deleting = false;
  /** Profiles to fetch again when next shown (held since before a reconnect). */
  readonly #staleProfiles = new Set<string>();
  /** Usernames whose fetch failed (not a 404): when to try again (epoch ms). */
  readonly #profileRetryAt = new Map<string, number>();
  /**
   * Conversations whose members' watermarks (the read ticks) may have moved while the link was
   * down: receipts are pushes only, so their members are reloaded when next opened.
   */
  readonly #staleMembers = new Set<string>();
  #typing = new Map<string, Map<string, number>>();
  #typingSentAt = new Map<string, number>();
  #typingTimer: ReturnType<typeof setTimeout> | null = null;
  #pending: readonly OutboxEntry[] = [];
  /** Refs already stored: the outbox may still list one for a moment after its `sent`. */
  readonly #sentRefs = new Set<string>();
  #detailsInFlight = new Set<string>();
  /** A message to announce once its conversation's members (and so its sender's name) load. */
  #notifyLater = new Map<string, Message>();
  #detailQueue: string[] = [];
  #timelineLoads = new Map<string, Promise<void>>();
  readonly #filling = new Set<string>();
  /** The newest message of each conversation whose details are still on their way. */
  readonly #orphans = new Map<string, MessageView>();
  #attachmentUrls = new Map<string, Promise<string>>();
  #unsubscribe: (() => void)[] = [];

  constructor(
    session: Session,
    readonly onEnded: (ending: Ending) => void,
  ) {
    this.#session = session;
    this.me = session.user;
    this.names.set(session.user.id, session.user.username);
    this.#client = this.#newClient();
    this.api = this.#client.api;
  }

  // Subscriptions -------------------------------------------------------------------------

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /** Batches the changes of one task into one render. */
  #changed(): void {
    if (this.#notifyQueued) return;
    this.#notifyQueued = true;
    queueMicrotask(() => {
      this.#notifyQueued = false;
      for (const listener of [...this.#listeners]) listener();
    });
  }

  // Life cycle ----------------------------------------------------------------------------

  #newClient(): ParleyClient {
    const client = createClient({
      url: location.origin,
      token: this.#session.token,
      device: this.#session.device,
      codec: 'json',
      outbox: new LocalStorageOutbox({ key: outboxKey(this.#session) }),
      // Bound, so that the SDK's calls reach the browser's fetch with the right `this`.
      fetch: (input, init) => fetch(input, init),
    });
    this.#unsubscribe = [
      client.on('state', (e) => this.#onState(e)),
      client.on('message', (m) => this.#onMessage(m)),
      client.on('sent', (m) => {
        this.#sentRefs.add(m.ref);
        this.#onMessage(m);
        this.#refreshPending();
      }),
      client.on('failed', (e) => {
        this.notify('error', `A message could not be sent: ${e.error.message}`, true);
        this.#refreshPending();
      }),
      client.on('receipt', (r) => this.#onReceipt(r)),
      client.on('typing', (t) => this.#onTyping(t.conversation, t.user)),
      client.on('presence', (p) => {
        this.presence.set(p.user, p.online);
        this.#changed();
      }),
      client.on('recalled', (r) =>
        this.#updateMessage(r.conversation, r.seq, (m) => ({
          ...m,
          body: { kind: 'recalled' },
          recalled: true,
          reactions: [],
        })),
      ),
      client.on('edited', (e) =>
        this.#updateMessage(e.conversation, e.seq, (m) => ({
          ...m,
          body: editedBody(m.body, e.body),
          editedAt: e.editedAt,
        })),
      ),
      client.on('reaction', (r) =>
        this.#updateMessage(r.conversation, r.seq, (m) => ({
          ...m,
          reactions: applyReaction(m.reactions, r.emoji, r.added, r.user === this.me.id, r.count),
        })),
      ),
      client.on('hidden', (h) =>
        this.#updateMessage(h.conversation, h.seq, (m) => ({
          ...m,
          body: { kind: 'hidden' },
          reactions: [],
        })),
      ),
      client.on('changed', (e) => this.#onChanged(e)),
      client.on('contact', (e) => this.#onContact(e)),
      client.on('profile', (e) => this.#onProfile(e)),
      client.on('member', (e) => {
        const gone =
          (e.event === 'member.removed' || e.event === 'member.left') &&
          e.targets.includes(this.me.id);
        if (gone) this.#dropConversation(e.conversation);
        else this.#queueDetails(e.conversation, true);
      }),
      client.on('synced', (s) => this.#onSynced(s.conversations)),
      client.on('error', (err) => {
        if (err.code !== 'kicked') console.warn('parley:', err.code, err.message);
      }),
    ];
    return client;
  }

  /** Connects and loads the conversation list. */
  start(): void {
    void this.#client.connect().catch((err: unknown) => this.#report(err));
    void this.#loadConversations();
    document.addEventListener('visibilitychange', this.#onVisible);
  }

  /** After a kick: take the device back (the other window gets kicked in turn). */
  useHere(): void {
    for (const off of this.#unsubscribe) off();
    this.#client = this.#newClient();
    this.ending = null;
    this.#everOnline = false;
    this.#changed();
    void this.#client.connect().catch((err: unknown) => this.#report(err));
  }

  async logout(): Promise<void> {
    try {
      await this.api.logout();
    } catch (err) {
      // The token may already be gone (revoked elsewhere); the local session ends either way.
      console.warn('parley: logout', err);
    }
    await this.stop();
  }

  async stop(): Promise<void> {
    document.removeEventListener('visibilitychange', this.#onVisible);
    for (const off of this.#unsubscribe) off();
    if (this.#typingTimer) clearTimeout(this.#typingTimer);
    await this.#client.close();
    const urls = await Promise.allSettled(this.#attachmentUrls.values());
    for (const u of urls) if (u.status === 'fulfilled') URL.revokeObjectURL(u.value);
    this.#attachmentUrls.clear();
  }

  get bannerShown(): boolean {
    return (
      this.#everOnline && (this.connection === 'reconnecting' || this.connection === 'connecting')
    );
  }

  #onState(e: StateEvent): void {
    this.connection = e.state;
    if (e.state === 'online' && this.#everOnline) this.#afterReconnect();
    if (e.state === 'online') this.#everOnline = true;
    if (e.state !== 'online') {
      // Presence is re-announced after the next welcome; until then nobody is known online.
      this.presence.clear();
    } else {
      this.#refreshPending();
      this.#maybeMarkRead();
    }
    if (e.state === 'closed' && e.code === 4409) {
      this.ending = 'kicked';
      this.onEnded('kicked');
    } else if (e.state === 'closed' && e.code === 4401) {
      // The account's own deletion closes the link too: that ending is reported once it is done.
      this.ending = this.#deleting ? 'deleted' : 'expired';
      if (!this.#deleting) this.onEnded('expired');
    }
    this.#changed();
  }

  /** Back online after a drop: the receipts pushed meanwhile are lost, so members reload. */
  #afterReconnect(): void {
    for (const [id, c] of this.conversations) if (c.members !== null) this.#staleMembers.add(id);
    for (const username of this.#profiles.keys()) this.#staleProfiles.add(username);
    if (this.#profiles.size > 0) this.#changed();
    if (this.activeId !== null) this.#refreshMembers(this.activeId);
  }

  #refreshMembers(id: string): void {
    this.#staleMembers.delete(id);
    this.#queueDetails(id, true);
  }

  #onVisible = (): void => {
    if (document.visibilityState === 'visible') this.#maybeMarkRead();
  };

  // Notices -------------------------------------------------------------------------------

  get notices(): readonly Notice[] {
    return this.#notices.list;
  }

  notify(kind: Notice['kind'], text: string, background = false): void {
    this.#notices.notify(kind, text, background);
  }

  openDialog(): number {
    return this.#notices.openDialog();
  }

  closeDialog(id: number): void {
    this.#notices.closeDialog(id);
  }

  dismissNotice(id: number): void {
    this.#notices.dismiss(id);
  }

  /** Runs `work`; a refusal or failure becomes a notice and null. */
  async #attempt<T>(work: () => Promise<T>): Promise<T | null> {
    try {
      return await work();
    } catch (err) {
      this.#report(err);
      return null;
    }
  }

  #report(err: unknown): void {
    const text = isParleyClientError(err) ? err.message : 'Something went wrong.';
    console.warn('parley:', err);
    this.notify('error', text);
  }

  // Names ---------------------------------------------------------------------------------

  nameOf = (userId: string): string => this.names.get(userId) ?? 'someone';

  // Conversations -------------------------------------------------------------------------

  /** The list: pinned first, then most recent activity first. */
  get sortedConversations(): ConversationView[] {
    return [...this.conversations.values()].sort(
      (a, b) => Number(b.pinned) - Number(a.pinned) || b.lastAt - a.lastAt,
    );
  }

  unreadOf(c: ConversationView): number {
    return Math.max(0, c.lastSeq - c.readSeq);
  }

  async #loadConversations(): Promise<void> {
    await this.#attempt(async () => {
      const list = await this.api.conversations.list();
      for (const raw of list) this.#mergeConversation(raw);
      this.loaded = true;
      this.#changed();
    });
  }

  #mergeConversation(raw: Conversation): ConversationView {
    const old = this.conversations.get(raw.id);
    const extra = raw as Conversation & {
      lastMessage?: unknown;
      mentions?: unknown;
      preferences?: { pinned?: unknown; muted?: unknown };
    };
    // The newest of: the server's preview, what this page had, a push that came before the list.
    const orphan = this.#orphans.get(raw.id) ?? null;
    this.#orphans.delete(raw.id);
    const last = newest(
      newest(
        isWireMessage(extra.lastMessage) ? toView(extra.lastMessage) : null,
        old?.last ?? null,
      ),
      orphan,
    );
    let members = old?.members ?? null;
    if (raw.members) {
      members = new Map(raw.members.map((m) => [m.id, memberView(m)]));
      for (const m of raw.members) if (m.username) this.names.set(m.id, m.username);
    }
    const peer =
      raw.kind === 'direct' && members
        ? ([...members.keys()].find((id) => id !== this.me.id) ?? null)
        : (old?.peer ?? null);
    const view: ConversationView = {
      id: raw.id,
      kind: raw.kind,
      title: titleOf(raw, peer ? this.nameOf(peer) : old?.title),
      peer,
      lastSeq: Math.max(raw.lastSeq, old?.lastSeq ?? 0, last?.seq ?? 0),
      readSeq: Math.max(raw.readSeq ?? 0, old?.readSeq ?? 0),
      deliveredSeq: Math.max(raw.deliveredSeq ?? 0, old?.deliveredSeq ?? 0),
      lastAt: Math.max(raw.lastAt ?? raw.createdAt, old?.lastAt ?? 0, last?.at ?? 0),
      mentions: typeof extra.mentions === 'number' ? extra.mentions : (old?.mentions ?? 0),
      last,
      role: raw.role ?? old?.role ?? null,
      members,
      groupMuted: raw.muted ?? false,
      history: raw.history ?? old?.history ?? 'join',
      dismissed: typeof raw.dismissedAt === 'number',
      pinned:
        typeof extra.preferences?.pinned === 'boolean'
          ? extra.preferences.pinned
          : (old?.pinned ?? false),
      notificationsMuted:
        typeof extra.preferences?.muted === 'boolean'
          ? extra.preferences.muted
          : (old?.notificationsMuted ?? false),
    };
    this.conversations.set(raw.id, view);
    this.unavailable.delete(raw.id);
    if (!members) this.#queueDetails(raw.id);
    const later = this.#notifyLater.get(raw.id);
    if (later && this.names.has(later.sender)) {
      this.#notifyLater.delete(raw.id);
      this.#maybeNotify(later, view);
    }
    if (!view.last && view.lastSeq > 0) void this.#loadLast(raw.id);
    this.#changed();
    return view;
  }

  #patchConversation(id: string, patch: (c: ConversationView) => ConversationView): void {
    const c = this.conversations.get(id);
    if (!c) return;
    this.conversations.set(id, patch(c));
    this.#changed();
  }

  /** Members and settings: fetched a few at a time, again when the group changes. */
  #queueDetails(id: string, again = false): void {
    if (this.#detailsInFlight.has(id) || (!again && this.#detailQueue.includes(id))) return;
    if (!this.#detailQueue.includes(id)) this.#detailQueue.push(id);
    this.#pumpDetails();
  }

  #pumpDetails(): void {
    while (this.#detailsInFlight.size < DETAIL_FETCHES_MAX && this.#detailQueue.length > 0) {
      const id = this.#detailQueue.shift();
      if (id === undefined) break;
      this.#detailsInFlight.add(id);
      this.api.conversations
        .get(id)
        .then((raw) => void this.#mergeConversation(raw))
        .catch((err: unknown) => {
          if (isGone(err)) {
            this.#dropConversation(id);
          } else {
            console.warn('parley: conversation details', err);
          }
        })
        .finally(() => {
          this.#detailsInFlight.delete(id);
          this.#pumpDetails();
        });
    }
  }

  async #loadLast(id: string): Promise<void> {
    try {
      const page = await this.api.messages.history(id, { limit: 1 });
      const m = page.messages.at(-1);
      if (m)
        this.#patchConversation(id, (c) =>
          c.last && c.last.seq >= m.seq ? c : { ...c, last: toView(m) },
        );
    } catch (err) {
      console.warn('parley: last message', err);
    }
  }

  #dropConversation(id: string): void {
    this.conversations.delete(id);
    this.timelines.delete(id);
    // The open one stays open and says so (one clear state instead of a notice and a spinner).
    if (this.activeId === id) this.unavailable.add(id);
    this.#changed();
  }

  #onSynced(list: readonly ConversationState[]): void {
    for (const s of list) {
      if (s.leftSeq !== undefined) {
        this.#dropConversation(s.id);
        continue;
      }
      const c = this.conversations.get(s.id);
      if (!c) {
        this.#queueDetails(s.id);
        continue;
      }
      // Newer servers send the preview, mentions and preferences along (ConversationState).
      const extra = s as ConversationState & {
        last?: unknown;
        mentions?: unknown;
        preferences?: { pinned?: unknown; muted?: unknown };
      };
      const last = wireToMessage(extra.last);
      this.conversations.set(s.id, {
        ...c,
        lastSeq: Math.max(c.lastSeq, s.lastSeq),
        readSeq: Math.max(c.readSeq, s.readSeq),
        deliveredSeq: Math.max(c.deliveredSeq, s.deliveredSeq),
        lastAt: Math.max(c.lastAt, s.lastAt),
        last: last && (!c.last || c.last.seq <= last.seq) ? toView(last) : c.last,
        mentions: typeof extra.mentions === 'number' ? extra.mentions : c.mentions,
        pinned:
          typeof extra.preferences?.pinned === 'boolean' ? extra.preferences.pinned : c.pinned,
        notificationsMuted:
          typeof extra.preferences?.muted === 'boolean'
            ? extra.preferences.muted
            : c.notificationsMuted,
      });
      const now = this.conversations.get(s.id);
      if (now && (!now.last || now.last.seq < s.lastSeq)) void this.#loadLast(s.id);
      const newest = this.timelines.get(s.id)?.messages.at(-1)?.seq;
      if (newest !== undefined && newest < s.lastSeq) {
        void this.#fillTimeline(s.id, newest, s.lastSeq + 1);
      }
    }
    this.#maybeMarkRead();
    this.#changed();
  }

  // Opening and reading -------------------------------------------------------------------

  open(id: string | null): void {
    if (this.activeId === id) return;
    this.activeId = id;
    if (id !== null) {
      this.unavailable.delete(id);
      if (!this.conversations.has(id)) this.#queueDetails(id);
      else if (this.#staleMembers.has(id)) this.#refreshMembers(id);
      void this.#ensureTimeline(id);
    }
    this.#changed();
  }

  timeline(id: string): Timeline {
    return this.timelines.get(id) ?? EMPTY_TIMELINE;
  }

  #ensureTimeline(id: string): Promise<void> {
    if (this.timelines.has(id)) {
      this.#maybeMarkRead();
      return Promise.resolve();
    }
    let load = this.#timelineLoads.get(id);
    if (!load) {
      load = this.#client
        .pull(id, { limit: PAGE_SIZE })
        .then((page) => {
          const current = this.timelines.get(id);
          this.timelines.set(id, {
            messages: mergeMessages(current?.messages ?? [], page.messages.map(toView)),
            hasOlder: page.hasMore,
            loadingOlder: false,
          });
          for (const m of page.messages) this.#noteMessage(m);
          // A message pushed while this page was on its way is past its end: fetch it too.
          const newest = page.messages.at(-1)?.seq ?? 0;
          const lastSeq = this.conversations.get(id)?.lastSeq ?? 0;
          if (newest < lastSeq) void this.#fillTimeline(id, newest, lastSeq + 1);
          this.#maybeMarkRead();
          this.#changed();
        })
        .catch((err: unknown) => {
          if (isGone(err)) this.#dropConversation(id);
          else this.#report(err);
        })
        .finally(() => this.#timelineLoads.delete(id));
      this.#timelineLoads.set(id, load);
    }
    return load;
  }

  /**
   * Pulls what a loaded timeline lacks between `after` and `before`. The SDK delivers every
   * message from the moment it first synced; a timeline loaded just before that, or across a
   * long absence, may still have a hole, and the merge by seq makes filling it twice harmless.
   */
  async #fillTimeline(id: string, after: number, before: number): Promise<void> {
    if (this.#filling.has(id)) return;
    this.#filling.add(id);
    try {
      let from = after;
      for (let i = 0; i < TIMELINE_FILL_PAGES_MAX && from < before - 1; i++) {
        const page = await this.#client.pull(id, { after: from, before, limit: PAGE_SIZE });
        const t = this.timelines.get(id);
        if (!t || page.messages.length === 0) break;
        const messages = mergeMessages(t.messages, page.messages.map(toView));
        this.timelines.set(id, { ...t, messages });
        from = page.messages.at(-1)?.seq ?? before;
        this.#changed();
        if (!page.hasMore) break;
      }
    } catch (err) {
      console.warn('parley: filling the timeline', err);
    } finally {
      this.#filling.delete(id);
    }
    this.#maybeMarkRead();
  }

  // Search ----------------------------------------------------------------------------------

  /**
   * One page of a message search (docs/messages.md#search), newest first: in `conversation`, or
   * in every conversation of the list (matches in conversations the list does not show, such as
   * groups the user left, are left out).
   */
  async searchMessages(
    q: string,
    options: { conversation?: string; before?: string } = {},
  ): Promise<{ messages: MessageView[]; next: string | null }> {
    const page = await this.api.messages.search(q, { ...options, limit: SEARCH_PAGE_SIZE });
    const messages = page.messages.filter((m) => this.conversations.has(m.conversation));
    // Senders' names come with their conversation's members.
    for (const id of new Set(messages.map((m) => m.conversation))) {
      if (this.conversations.get(id)?.members === null) this.#queueDetails(id);
    }
    return { messages: messages.map(toView), next: page.next };
  }

  /**
   * Opens a conversation at one of its messages (a search result): loads older pages until the
   * timeline holds it, then leaves it in `focus` for the chat view to bring into view.
   */
  async reveal(conversation: string, seq: number): Promise<void> {
    this.focus = { conversation, seq };
    navigate(conversation);
    await this.#ensureTimeline(conversation);
    for (let i = 0; i < REVEAL_STEPS_MAX; i++) {
      const t = this.timelines.get(conversation);
      if (!t || !t.hasOlder || (t.messages[0]?.seq ?? 0) <= seq) break;
      if (t.loadingOlder) await new Promise((r) => setTimeout(r, 50));
      else await this.loadOlder(conversation);
    }
    const t = this.timelines.get(conversation);
    if (this.focus?.seq === seq && t && (t.messages[0]?.seq ?? 0) > seq) {
      this.notify('info', 'That message is further back: scroll up to reach it.');
      this.focus = null;
    }
    this.#changed();
  }

  /** The chat view brought `focus` into view. */
  clearFocus(): void {
    this.focus = null;
  }

  /** Infinite scroll: the page before the oldest message shown. */
  async loadOlder(id: string): Promise<void> {
    const t = this.timelines.get(id);
    if (!t || !t.hasOlder || t.loadingOlder) return;
    const oldest = t.messages[0]?.seq;
    if (oldest === undefined || oldest <= 1) {
      this.timelines.set(id, { ...t, hasOlder: false });
      this.#changed();
      return;
    }
    this.timelines.set(id, { ...t, loadingOlder: true });
    this.#changed();
    try {
      const page = await this.#client.pull(id, { before: oldest, limit: PAGE_SIZE });
      const now = this.timelines.get(id) ?? t;
      this.timelines.set(id, {
        messages: mergeMessages(now.messages, page.messages.map(toView)),
        hasOlder: page.hasMore,
        loadingOlder: false,
      });
      for (const m of page.messages) this.#noteMessage(m);
    } catch (err) {
      const now = this.timelines.get(id) ?? t;
      this.timelines.set(id, { ...now, loadingOlder: false });
      this.#report(err);
    }
    this.#changed();
  }

  /** Marks the open conversation read up to its newest message while the page is visible. */
  #maybeMarkRead(): void {
    const id = this.activeId;
    if (id === null || document.visibilityState !== 'visible') return;
    if (this.connection !== 'online') return;
    const c = this.conversations.get(id);
    const newest = this.timelines.get(id)?.messages.at(-1)?.seq ?? 0;
    if (!c || newest <= c.readSeq) return;
    this.conversations.set(id, {
      ...c,
      readSeq: newest,
      deliveredSeq: Math.max(newest, c.deliveredSeq),
      mentions: 0,
    });
    this.#changed();
    // Fire and forget: the SDK sends it now, or after the next welcome.
    this.#client.markRead(id, newest);
  }

  // Incoming ------------------------------------------------------------------------------

  /** Names and typing for a message from anywhere (push, own send, history page). */
  #noteMessage(m: Message): void {
    const typing = this.#typing.get(m.conversation);
    if (typing?.delete(m.sender)) this.#changed();
  }

  #onMessage(m: Message): void {
    const view = toView(m);
    const t = this.timelines.get(m.conversation);
    if (t) {
      const newest = t.messages.at(-1)?.seq ?? 0;
      this.timelines.set(m.conversation, { ...t, messages: mergeMessages(t.messages, [view]) });
      if (m.seq > newest + 1) void this.#fillTimeline(m.conversation, newest, m.seq);
    }
    this.#noteMessage(m);
    const c = this.conversations.get(m.conversation);
    this.#maybeNotify(m, c);
    if (!c) {
      const orphan = this.#orphans.get(m.conversation);
      if (!orphan || orphan.seq < m.seq) this.#orphans.set(m.conversation, view);
      this.#queueDetails(m.conversation);
    } else {
      const mine = m.sender === this.me.id;
      this.conversations.set(m.conversation, {
        ...c,
        lastSeq: Math.max(c.lastSeq, m.seq),
        lastAt: Math.max(c.lastAt, m.at),
        readSeq: mine ? Math.max(c.readSeq, m.seq) : c.readSeq,
        last: !c.last || c.last.seq <= m.seq ? view : c.last,
      });
      if (m.body.kind === 'system' || !c.members || !c.members.has(m.sender)) {
        this.#queueDetails(m.conversation, true);
      }
    }
    this.#maybeMarkRead();
    this.#changed();
  }

  #onReceipt(r: {
    conversation: string;
    user: string;
    deliveredSeq: number;
    readSeq: number;
  }): void {
    this.#patchConversation(r.conversation, (c) => {
      const members = new Map(c.members ?? []);
      const m = members.get(r.user);
      if (m) {
        members.set(r.user, {
          ...m,
          deliveredSeq: Math.max(m.deliveredSeq, r.deliveredSeq),
          readSeq: Math.max(m.readSeq, r.readSeq),
        });
      }
      const mine = r.user === this.me.id;
      return {
        ...c,
        members: c.members ? members : null,
        readSeq: mine ? Math.max(c.readSeq, r.readSeq) : c.readSeq,
        deliveredSeq: mine ? Math.max(c.deliveredSeq, r.deliveredSeq) : c.deliveredSeq,
      };
    });
  }

  /** Messages that changed while the link was down (reported by the sync): the copies held go. */
  #onChanged(e: ChangedEvent): void {
    if (e.more) {
      // More than the sync lists: anything held may be stale, so the timeline loads afresh.
      this.timelines.delete(e.conversation);
      if (this.activeId === e.conversation) void this.#ensureTimeline(e.conversation);
    }
    for (const m of e.messages) this.#updateMessage(e.conversation, m.seq, () => toView(m));
  }

  #updateMessage(conversation: string, seq: number, change: (m: MessageView) => MessageView): void {
    const t = this.timelines.get(conversation);
    if (t) {
      const i = t.messages.findIndex((m) => m.seq === seq);
      const found = t.messages[i];
      if (found) {
        const messages = [...t.messages];
        messages[i] = change(found);
        this.timelines.set(conversation, { ...t, messages });
      }
    }
    const c = this.conversations.get(conversation);
    if (c?.last?.seq === seq) this.conversations.set(conversation, { ...c, last: change(c.last) });
    this.#changed();
  }

  // Typing --------------------------------------------------------------------------------

  #onTyping(conversation: string, user: string): void {
    let m = this.#typing.get(conversation);
    if (!m) this.#typing.set(conversation, (m = new Map<string, number>()));
    m.set(user, Date.now() + TYPING_SHOWN_MS);
    this.#scheduleTypingExpiry();
    this.#changed();
  }

  #scheduleTypingExpiry(): void {
    if (this.#typingTimer) clearTimeout(this.#typingTimer);
    let next = Infinity;
    for (const m of this.#typing.values())
      for (const until of m.values()) next = Math.min(next, until);
    if (next === Infinity) return;
    this.#typingTimer = setTimeout(
      () => {
        const now = Date.now();
        for (const m of this.#typing.values()) {
          for (const [user, until] of m) if (until <= now) m.delete(user);
        }
        this.#changed();
        this.#scheduleTypingExpiry();
      },
      Math.max(50, next - Date.now()),
    );
  }

  typingIn(conversation: string): string[] {
    const m = this.#typing.get(conversation);
    if (!m) return [];
    const now = Date.now();
    return [...m].filter(([, until]) => until > now).map(([user]) => this.nameOf(user));
  }

  /** Called as the user types: at most one typing frame per 3 s per conversation. */
  typing(conversation: string): void {
    const last = this.#typingSentAt.get(conversation) ?? 0;
    if (Date.now() - last < TYPING_SEND_EVERY_MS || this.connection !== 'online') return;
    this.#typingSentAt.set(conversation, Date.now());
    this.#client.typing(conversation);
  }

  // Sending -------------------------------------------------------------------------------

  pending(conversation: string): readonly OutboxEntry[] {
    return this.#pending
      .filter((e) => e.conversation === conversation && !this.#sentRefs.has(e.ref))
      .sort((a, b) => a.createdAt - b.createdAt);
  }

  #refreshPending(): void {
    this.#pending = this.#client.pending();
    this.#changed();
  }

  /** Sends a body; it shows as "sending…" until the server stores it, across reconnects. */
  send(conversation: string, body: Body): void {
    this.#typingSentAt.delete(conversation);
    const ref = `w-${randomHex(12)}`;
    // The web client builds its bodies itself (composer, uploads, forwards): sendable kinds.
    const sendable = body as SendableBody;
    const sent = this.#client.send(conversation, sendable, { ref });
    // Shown at once: the SDK counts the send in pending() by the time send() returns.
    this.#refreshPending();
    sent
      .catch((err: unknown) => {
        // A refusal also arrives as a `failed` event, which tells the user; a closed client
        // keeps the entry in its storage, and the next client resends it.
        if (isParleyClientError(err) && err.code !== 'client_closed') return;
        console.warn('parley: send', err);
      })
      .finally(() => this.#refreshPending());
  }

  /**
   * Forwards a message to another conversation: its content again, marked `forwardedFrom` with
   * where it came from. A reply mark and mentions belong to the first conversation and are not
   * carried; an attachment is sent again by id (the server allows it when the forwarder can
   * download it).
   */
  forward(from: string, m: MessageView, to: string): void {
    const { replyTo: _reply, mentions: _mentions, forwardedFrom: _from, ...content } = m.body;
    this.send(to, { ...content, forwardedFrom: { conversation: from, seq: m.seq } });
  }

  sendText(conversation: string, text: string, replyTo: number | null): void {
    const body: Body = replyTo === null ? { kind: 'text', text } : { kind: 'text', text, replyTo };
    this.send(conversation, body);
  }

  /** Uploads a file and sends it as an image (with its size) or as a file. */
  async sendFile(
    conversation: string,
    file: File,
    caption: string,
    replyTo: number | null,
  ): Promise<void> {
    const attachment = await this.api.attachments.upload(file, {
      contentType: file.type || 'application/octet-stream',
      ...(file.name ? { name: safeName(file.name) } : {}),
    });
    const extra: Record<string, unknown> = {};
    if (caption) extra.caption = caption;
    if (replyTo !== null) extra.replyTo = replyTo;
    if (file.type.startsWith('image/')) {
      const size = await imageSize(file);
      this.send(conversation, { kind: 'image', attachment: attachment.id, ...size, ...extra });
    } else if (file.type.startsWith('audio/') || file.type.startsWith('video/')) {
      const kind = file.type.startsWith('audio/') ? 'audio' : 'video';
      const meta = await mediaMeta(file, kind);
      this.send(conversation, { kind, attachment: attachment.id, ...meta, ...extra });
    } else {
      const { caption: _unused, ...rest } = extra;
      void _unused;
      this.send(conversation, {
        kind: 'file',
        attachment: attachment.id,
        ...(file.name ? { name: safeName(file.name) } : {}),
        ...rest,
      });
    }
  }

  async recall(conversation: string, seq: number): Promise<void> {
    await this.#attempt(async () => {
      await this.#client.recall(conversation, seq);
      this.#updateMessage(conversation, seq, (m) => ({
        ...m,
        body: { kind: 'recalled' },
        recalled: true,
        reactions: [],
      }));
    });
  }

  /** Replaces the text of one's own text message (the server keeps its reply and forward). */
  async edit(conversation: string, seq: number, text: string): Promise<void> {
    await this.#attempt(async () => {
      const e = await this.#client.edit(conversation, seq, { kind: 'text', text });
      this.#updateMessage(conversation, seq, (m) => ({
        ...m,
        body: editedBody(m.body, e.body),
        editedAt: e.editedAt,
      }));
    });
  }

  async react(conversation: string, seq: number, emoji: string): Promise<void> {
    const m = this.timelines.get(conversation)?.messages.find((x) => x.seq === seq);
    const add = !m?.reactions.some((r) => r.emoji === emoji && r.me);
    await this.#attempt(async () => {
      const r = await this.#client.react(conversation, seq, emoji, add);
      this.#updateMessage(conversation, seq, (x) => ({
        ...x,
        reactions: applyReaction(x.reactions, emoji, r.added, true, r.count),
      }));
    });
  }

  /** Delete for me: the message leaves this user's timeline, on every device of theirs. */
  async hide(conversation: string, seq: number): Promise<void> {
    await this.#attempt(async () => {
      await this.#client.hide(conversation, seq);
      this.#updateMessage(conversation, seq, (m) => ({
        ...m,
        body: { kind: 'hidden' },
        reactions: [],
      }));
    });
  }

  /** Pins a conversation to the top of this user's list (or unpins it), on every device. */
  async setPinned(id: string, pinned: boolean): Promise<void> {
    if (await this.#setPreferences(id, { pinned }))
      this.#patchConversation(id, (c) => ({ ...c, pinned }));
  }

  /** Mutes a conversation's notifications for this user (or unmutes them), on every device. */
  async setNotificationsMuted(id: string, muted: boolean): Promise<void> {
    if (await this.#setPreferences(id, { muted })) {
      this.#patchConversation(id, (c) => ({ ...c, notificationsMuted: muted }));
    }
  }

  async #setPreferences(
    id: string,
    preferences: { pinned?: boolean; muted?: boolean },
  ): Promise<boolean> {
    const done = await this.#attempt(async () => {
      await this.api.conversations.setPreferences(id, preferences);
      return true;
    });
    return done ?? false;
  }

  /** Unread messages over every conversation whose notifications are not muted. */
  get unreadTotal(): number {
    let n = 0;
    for (const c of this.conversations.values()) {
      if (!c.notificationsMuted) n += Math.max(0, c.lastSeq - c.readSeq);
    }
    return n;
  }

  /**
   * A system notification for someone else's message, when the page is hidden or shows another
   * conversation, the conversation's notifications are not muted, and the user allowed them.
   */
  #maybeNotify(m: Message, c: ConversationView | undefined): void {
    if (m.sender === this.me.id || m.body.kind === 'system' || c?.notificationsMuted) return;
    if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
    if (document.visibilityState === 'visible' && this.activeId === m.conversation) return;
    if (!this.names.has(m.sender)) {
      // A conversation new to this page: say who wrote once its members are loaded.
      this.#notifyLater.set(m.conversation, m);
      this.#queueDetails(m.conversation, true);
      return;
    }
    const from = this.nameOf(m.sender);
    const title = c && c.kind !== 'direct' ? `${from} in ${c.title}` : from;
    try {
      const n = new Notification(title, {
        body: previewOf(m.body, this.nameOf),
        tag: m.conversation,
      });
      n.onclick = () => {
        window.focus();
        navigate(m.conversation);
        n.close();
      };
    } catch (err) {
      // Some browsers allow notifications only from a service worker.
      console.warn('parley: notification', err);
    }
  }

  // Ticks ---------------------------------------------------------------------------------

  /** Sent, delivered to every other member, or read by every other member. */
  tickOf(c: ConversationView, seq: number): TickState {
    const others = [...(c.members?.values() ?? [])].filter((m) => m.id !== this.me.id);
    if (others.length === 0) return 'sent';
    if (others.every((m) => m.readSeq >= seq)) return 'read';
    if (others.every((m) => m.deliveredSeq >= seq)) return 'delivered';
    return 'sent';
  }

  // Starting conversations and managing groups ---------------------------------------------

  async startDirect(username: string): Promise<string | null> {
    return this.#attempt(async () => {
      const c = await this.api.conversations.openDirect(username.trim().toLowerCase());
      this.#mergeConversation(c);
      return c.id;
    });
  }

  async createGroup(title: string, usernames: string[]): Promise<string | null> {
    return this.#attempt(async () => {
      const c = await this.api.groups.create({ title, members: usernames });
      this.#mergeConversation(c);
      return c.id;
    });
  }

  /** Runs a group change and reloads the group; false (with a notice) when it was refused. */
  async groupAction(id: string, action: (api: ParleyApi) => Promise<unknown>): Promise<boolean> {
    const done = await this.#attempt(async () => {
      await action(this.api);
      this.#queueDetails(id, true);
      return true;
    });
    return done ?? false;
  }

  /** Joins a group with an invite code; the group's id, or null (with a notice) if refused. */
  async joinWithCode(code: string): Promise<string | null> {
    return this.#attempt(async () => {
      const { message } = await this.api.groups.join(code.trim());
      this.#mergeConversation(await this.api.conversations.get(message.conversation));
      return message.conversation;
    });
  }

  /**
   * A group's invite code (admins): the current one, a new one (`renew`, replacing it), or none
   * when there is none. Undefined (with a notice) when the server refused.
   */
  async inviteCode(id: string, renew: boolean): Promise<string | null | undefined> {
    try {
      const invite = renew
        ? await this.api.groups.createInvite(id)
        : await this.api.groups.invite(id);
      return invite.code;
    } catch (err) {
      if (!renew && isParleyClientError(err) && err.code === 'invite_not_found') return null;
      this.#report(err);
      return undefined;
    }
  }

  async revokeInviteCode(id: string): Promise<boolean> {
    const done = await this.#attempt(async () => {
      await this.api.groups.revokeInvite(id);
      return true;
    });
    return done ?? false;
  }

  async leave(id: string): Promise<boolean> {
    const ok = await this.groupAction(id, (api) => api.groups.leave(id));
    if (ok) this.#dropConversation(id);
    return ok;
  }

  async searchUsers(prefix: string): Promise<string[]> {
    if (!/^[a-z0-9_.-]{1,32}$/i.test(prefix)) return [];
    try {
      const page = await this.api.users.search(prefix.toLowerCase(), { limit: 8 });
      return page.users.map((u) => u.username).filter((u) => u !== this.me.username);
    } catch (err) {
      console.warn('parley: search', err);
      return [];
    }
  }

  // Profiles ------------------------------------------------------------------------------

  /** A user's profile if loaded; the first call starts loading it (the page updates then). */
  profile(username: string): Profile | undefined {
    const known = this.#profiles.get(username);
    if (known !== undefined && !this.#staleProfiles.has(username)) return known ?? undefined;
    const shown = known ?? undefined;
    if (this.#profileLoads.has(username)) return shown;
    if ((this.#profileRetryAt.get(username) ?? 0) > Date.now()) return shown;
    this.#profileLoads.add(username);
    this.#staleProfiles.delete(username);
    void this.api.users
      .get(username)
      .then(
        // A push that came meanwhile is at least as new as this answer.
        (p) => {
          if (this.#profiles.get(username) === known) this.#profiles.set(username, p);
        },
        (err: unknown) => {
          if (isParleyClientError(err) && err.code === 'user_not_found') {
            this.#profiles.set(username, null);
          } else {
            if (known !== undefined) this.#staleProfiles.add(username);
            this.#profileRetryAt.set(username, Date.now() + PROFILE_RETRY_MS);
            setTimeout(() => this.#changed(), PROFILE_RETRY_MS);
          }
        },
      )
      .finally(() => {
        this.#profileLoads.delete(username);
        this.#changed();
      });
    return shown;
  }

  /** A `profile` push: someone shown here (or this user) changed their profile. */
  #onProfile(e: ProfileChangeEvent): void {
    // A deleted account has no profile: as for a 404, null (see isDeleted).
    this.#profiles.set(e.profile.username, e.deleted ? null : e.profile);
    this.#staleProfiles.delete(e.profile.username);
    this.#profileRetryAt.delete(e.profile.username);
    this.#changed();
  }

  /**
   * Whether this user's account is known to be gone (its profile read found none, or its deletion
   * was pushed): a direct chat with it stays readable but takes no more messages.
   */
  isDeleted(username: string): boolean {
    return this.#profiles.get(username) === null;
  }

  /** Saves the own profile's fields given; false (with a notice) when refused. */
  async saveProfile(patch: ProfilePatch): Promise<boolean> {
    const saved = await this.#attempt(() => this.api.users.update(patch));
    if (saved) {
      this.#profiles.set(saved.username, saved);
      this.#changed();
    }
    return saved !== null;
  }

  /** Uploads an image and makes it the own avatar; false (with a notice) when refused. */
  async setAvatar(file: File): Promise<boolean> {
    const uploaded = await this.#attempt(() =>
      this.api.attachments.upload(file, {
        contentType: file.type || 'application/octet-stream',
        ...(file.name ? { name: safeName(file.name) } : {}),
      }),
    );
    return uploaded !== null && (await this.saveProfile({ avatar: uploaded.id }));
  }

  // Account -------------------------------------------------------------------------------

  /** This account's logged-in devices, newest first; null (with a notice) if they cannot be read. */
  devices(): Promise<DeviceSession[] | null> {
    return this.#attempt(() => this.api.account.sessions());
  }

  /** Logs another device of this account out; false (with a notice) when refused. */
  async logOutDevice(device: string): Promise<boolean> {
    const done = (await this.#attempt(() => this.api.account.revoke(device))) !== null;
    if (done) this.notify('info', `${device} is logged out.`);
    return done;
  }

  /**
   * Deletes the account for good (docs/rest-api.md, DELETE /v1/me); on success the session ends
   * (`deleted`). False, with a notice, when refused (a wrong password, groups to hand over).
   */
  /** Downloads the user's data export (docs/rest-api.md, GET /v1/me/export) as a file. */
  async downloadExport(): Promise<boolean> {
    const data = await this.#attempt(() => this.api.account.export());
    if (data === null) return false;
    const url = URL.createObjectURL(
      new Blob([JSON.stringify(data, null, 1)], { type: 'application/json' }),
    );
    const a = document.createElement('a');
    a.href = url;
    a.download = `parley-export-${this.me.username}.json`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    return true;
  }

  async deleteAccount(password: string): Promise<boolean> {
    this.#deleting = true;
    const done = (await this.#attempt(() => this.api.account.delete(password))) !== null;
    // On success it stays set: the link's 4401 may come after the answer.
    if (!done) {
      this.#deleting = false;
      return false;
    }
    await this.stop();
    this.ending = 'deleted';
    this.onEnded('deleted');
    return true;
  }

  /** Changes the password (the other devices are logged out); false (with a notice) if refused. */
  async changePassword(current: string, next: string): Promise<boolean> {
    const done =
      (await this.#attempt(() => this.api.account.changePassword(current, next))) !== null;
    if (done) this.notify('info', 'Password changed. Your other devices are logged out.');
    return done;
  }

  // Contacts ------------------------------------------------------------------------------

  /** (Re)loads the four contact lists; a later load wins over an earlier one still on its way. */
  async loadContacts(): Promise<void> {
    const gen = ++this.#contactsGen;
    const q = { limit: CONTACTS_PAGE };
    const c = this.api.contacts;
    await this.#attempt(async () => {
      const [contacts, incoming, outgoing, blocked] = await Promise.all([
        c.list(q),
        c.requests('incoming', q),
        c.requests('outgoing', q),
        c.blocked(q),
      ]);
      if (gen !== this.#contactsGen) return;
      this.contactLists = {
        contacts: contacts.entries,
        incoming: incoming.entries,
        outgoing: outgoing.entries,
        blocked: blocked.entries,
      };
      this.#changed();
    });
  }

  /** One change of a contact relation; false (with a notice) when the server refused it. */
  async contactAction(action: ContactAction, username: string, note = ''): Promise<boolean> {
    const u = username.trim().toLowerCase();
    const c = this.api.contacts;
    const done = await this.#attempt(async () => {
      if (action === 'request') await c.request(u, note.trim() || undefined);
      else await c[action](u);
      return true;
    });
    if (this.contactLists) await this.#reloadContacts();
    return done ?? false;
  }

  /**
   * One reload for every ask within 50 ms: an action's own answer and the `contact` push it
   * causes come together, and used to reload the four lists twice.
   */
  #reloadContacts(): Promise<void> {
    this.#contactsReload ??= new Promise<void>((resolve) => setTimeout(resolve, 50)).then(() => {
      this.#contactsReload = null;
      return this.loadContacts();
    });
    return this.#contactsReload;
  }

  /** A `contact` push: a request to this user is announced; shown lists are reloaded. */
  #onContact(e: ContactChangeEvent): void {
    if (e.event === 'requested' && e.to === this.me.id) {
      this.notify('info', `${e.fromUsername} sent you a contact request.`, true);
    }
    if (this.contactLists) void this.#reloadContacts();
  }

  // Attachments ---------------------------------------------------------------------------

  /** An object URL of an attachment (downloads need the bearer token, so no plain src). */
  attachmentUrl(id: string): Promise<string> {
    let url = this.#attachmentUrls.get(id);
    if (!url) {
      url = this.api.attachments.download(id).then((blob) => URL.createObjectURL(blob));
      url.catch(() => this.#attachmentUrls.delete(id));
      this.#attachmentUrls.set(id, url);
    }
    return url;
  }
}
