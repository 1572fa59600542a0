// One conversation's messages: older pages as the reader scrolls up (the view kept still while
// they come in above), the newest followed while the reader is at the bottom, a "New messages"
// button when they are not, and an unread divider where the reader left off.
import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { ChatStore } from './chat-store.js';
import type { ConversationView, MessageView } from './store/index.js';
import { MessageItem, PendingItem, messageDomId } from './message-item.js';

export interface TimelineProps {
  store: ChatStore;
  c: ConversationView;
  onReply: (m: MessageView) => void;
  onEdit: (m: MessageView) => void;
}

/** Closer than this to the bottom counts as at the bottom. */
const STICK_PX = 80;
/** Room left above the unread divider when a chat opens at it. */
const DIVIDER_MARGIN_PX = 12;
/** Older pages fetched at most to reach the first unread message (300 messages at 30 a page). */
const DIVIDER_PAGES_MAX = 10;

interface Snap {
  /** The oldest seq shown, to keep the view still when an older page comes in above. */
  first: number;
  /** The newest seq shown, to tell new messages from re-renders. */
  last: number;
  height: number;
  top: number;
  /**
   * Whether to follow the newest message. Only the reader's scrolling (and sending) changes it,
   * never a change of height: an edit, a recall or an image that loads keeps the reader where
   * they were (Slack and Telegram do the same).
   */
  stick: boolean;
  /** The opening position (the unread divider, or the bottom) was taken. */
  placed: boolean;
  /** Own messages still waiting for the server. */
  pending: number;
  /** Older pages fetched so far to reach the unread divider. */
  dividerPages: number;
}

export function Timeline(props: TimelineProps) {
  const { store, c } = props;
  const t = store.timeline(c.id);
  const pending = store.pending(c.id);
  const scroller = useRef<HTMLDivElement>(null);
  const inner = useRef<HTMLDivElement>(null);
  const snap = useRef<Snap>({
    first: 0,
    last: 0,
    height: 0,
    top: 0,
    stick: true,
    placed: false,
    pending: 0,
    dividerPages: 0,
  });
  // Where the reader left off, as the chat opened: later reads must not move it.
  const [divider, setDivider] = useState<number | null>(() =>
    c.lastSeq > c.readSeq ? c.readSeq + 1 : null,
  );
  const [behind, setBehind] = useState(false);
  const bySeq = new Map(t.messages.map((m) => [m.seq, m]));

  const settle = () => {
    const el = scroller.current;
    if (!el) return;
    const s = snap.current;
    const first = t.messages[0]?.seq ?? 0;
    if (s.first !== 0 && first !== 0 && first < s.first) {
      el.scrollTop = s.top + (el.scrollHeight - s.height);
    } else if (s.stick) {
      el.scrollTop = el.scrollHeight;
    }
    s.first = first;
    s.height = el.scrollHeight;
    s.top = el.scrollTop;
  };

  const place = (el: HTMLDivElement) => {
    const s = snap.current;
    const mark = el.querySelector<HTMLElement>('.unread-divider');
    const further = divider !== null && t.hasOlder && (t.messages[0]?.seq ?? 0) > divider;
    if (!mark && further && s.dividerPages < DIVIDER_PAGES_MAX) {
      // The first unread message is further back: fetch pages until the timeline holds it.
      if (!t.loadingOlder) {
        s.dividerPages++;
        void store.loadOlder(c.id);
      }
      return;
    }
    s.placed = true;
    if (!mark) return;
    el.scrollTop = mark.offsetTop - DIVIDER_MARGIN_PX;
    s.stick = el.scrollHeight - el.scrollTop - el.clientHeight < STICK_PX;
    s.top = el.scrollTop;
    s.height = el.scrollHeight;
  };

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const s = snap.current;
    const newest = t.messages.at(-1);
    const arrived = newest !== undefined && newest.seq > s.last && s.last !== 0;
    // One's own send brings the view down to it, wherever the reader was.
    if (pending.length > s.pending || (arrived && newest.sender === store.me.id)) s.stick = true;
    s.pending = pending.length;
    if (arrived && !s.stick) {
      setBehind(true);
      if (divider === null) setDivider(s.last + 1);
    }
    if (newest) s.last = Math.max(s.last, newest.seq);
    settle();
    // After settle: an older page that came in for the divider must not move the view again.
    if (!s.placed && t.messages.length > 0) place(el);
    // A first page that does not fill the view: fetch more until it does.
    if (
      t.hasOlder &&
      !t.loadingOlder &&
      t.messages.length > 0 &&
      el.scrollHeight <= el.clientHeight
    ) {
      void store.loadOlder(c.id);
    }
  });

  // Heights change without a render too (an image decoding, a font loading).
  useLayoutEffect(() => {
    const box = inner.current;
    if (!box || typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(() => settle());
    observer.observe(box);
    return () => observer.disconnect();
  });

  // A search result to bring into view: once the timeline holds it, centred and marked a moment.
  const focus = store.focus;
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el || !focus || focus.conversation !== c.id) return;
    const item = document.getElementById(messageDomId(c.id, focus.seq));
    if (!item) return;
    store.clearFocus();
    item.scrollIntoView({ block: 'center' });
    item.focus({ preventScroll: true });
    item.classList.add('found');
    setTimeout(() => item.classList.remove('found'), 2_500);
    snap.current.placed = true;
    onScroll();
  });

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    const s = snap.current;
    s.top = el.scrollTop;
    s.height = el.scrollHeight;
    s.stick = el.scrollHeight - el.scrollTop - el.clientHeight < STICK_PX;
    if (s.stick && behind) setBehind(false);
    if (el.scrollTop < 200) void store.loadOlder(c.id);
  };

  const toNewest = () => {
    const el = scroller.current;
    if (!el) return;
    snap.current.stick = true;
    el.scrollTop = el.scrollHeight;
    setBehind(false);
  };

  // The divider stands before the first unread message the timeline holds, if it holds it.
  const firstSeq = t.messages[0]?.seq ?? 0;
  const dividerShown = divider !== null && (!t.hasOlder || divider >= firstSeq);
  const dividerBefore = dividerShown
    ? t.messages.find((m) => m.seq >= divider && m.body.kind !== 'hidden')?.seq
    : undefined;

  return (
    <div class="timeline-wrap">
      <div class="timeline" ref={scroller} onScroll={onScroll} role="log" aria-label="Messages">
        <div class="timeline-inner" ref={inner}>
          {t.hasOlder && t.messages.length > 0 && (
            <button
              type="button"
              class="load-older quiet"
              disabled={t.loadingOlder}
              onClick={() => void store.loadOlder(c.id)}
            >
              {t.loadingOlder ? 'Loading…' : 'Load older messages'}
            </button>
          )}
          {!t.hasOlder && t.messages.length > 0 && (
            <p class="timeline-start">The conversation starts here.</p>
          )}
          <ol class="messages">
            {t.messages.map((m) => [
              m.seq === dividerBefore && (
                <li key="unread" class="unread-divider">
                  <span>Unread messages</span>
                </li>
              ),
              <MessageItem
                key={m.seq}
                store={store}
                c={c}
                m={m}
                quoted={typeof m.body.replyTo === 'number' ? bySeq.get(m.body.replyTo) : undefined}
                onReply={props.onReply}
                onEdit={props.onEdit}
              />,
            ])}
            {pending.map((e) => (
              <PendingItem key={e.ref} store={store} entry={e} />
            ))}
          </ol>
        </div>
      </div>
      {behind && (
        <button type="button" class="jump-new" onClick={toNewest}>
          New messages ↓
        </button>
      )}
    </div>
  );
}
