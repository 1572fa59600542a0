// Message search (docs/messages.md#search): words typed in, matching messages newest first, in
// every conversation or only the open one. Picking a result opens its conversation at it.
import { useEffect, useState } from 'preact/hooks';
import { isParleyClientError } from 'parley/sdk';
import type { ChatStore } from './chat-store.js';
import type { MessageView } from './store/index.js';
import { Modal } from './dialogs.js';
import { previewOf, shortTime } from './format.js';

/** Something the server can search: at least one letter or digit. */
const SEARCHABLE = /[\p{L}\p{N}]/u;

/**
 * The text with each word that starts with one of the searched words marked, as the server
 * matched them (whole words, case aside; it also folds accents, which this does not).
 */
export function Highlighted(props: { text: string; q: string }) {
  const words = props.q.toLowerCase().match(/[\p{L}\p{N}\p{M}]+/gu) ?? [];
  if (words.length === 0) return <>{props.text}</>;
  // Words are letters, digits and marks only: nothing in them needs escaping.
  const re = new RegExp(
    `(?<![\\p{L}\\p{N}\\p{M}])(?:${words.join('|')})[\\p{L}\\p{N}\\p{M}]*`,
    'giu',
  );
  const parts: (string | { mark: string })[] = [];
  let at = 0;
  for (const m of props.text.matchAll(re)) {
    if (m.index > at) parts.push(props.text.slice(at, m.index));
    parts.push({ mark: m[0] });
    at = m.index + m[0].length;
  }
  if (at < props.text.length) parts.push(props.text.slice(at));
  return <>{parts.map((p, i) => (typeof p === 'string' ? p : <mark key={i}>{p.mark}</mark>))}</>;
}

/** A refusal's own words (too many searches, say), else a generic line. */
const reasonOf = (err: unknown): string =>
  isParleyClientError(err) ? err.message : 'The search failed. Try again in a moment.';

interface Results {
  readonly q: string;
  readonly messages: readonly MessageView[];
  readonly next: string | null;
}

export function SearchDialog(props: { store: ChatStore; onClose: () => void }) {
  const { store } = props;
  const active = store.activeId !== null ? store.conversations.get(store.activeId) : undefined;
  const [q, setQ] = useState('');
  const [onlyHere, setOnlyHere] = useState(false);
  const [results, setResults] = useState<Results | null>(null);
  const [busy, setBusy] = useState(false);
  /** Why the last search failed (the server's reason when it gave one), or null. */
  const [failed, setFailed] = useState<string | null>(null);
  const scope = onlyHere && active ? { conversation: active.id } : {};

  // Search as one types, a moment after the last key.
  useEffect(() => {
    const words = q.trim();
    if (!SEARCHABLE.test(words)) {
      setResults(null);
      return;
    }
    let live = true;
    const timer = setTimeout(() => {
      setBusy(true);
      store
        .searchMessages(words, scope)
        .then((page) => {
          if (!live) return;
          setFailed(null);
          setResults({ q: words, ...page });
        })
        .catch((err: unknown) => {
          console.warn('parley: message search', err);
          if (live) setFailed(reasonOf(err));
        })
        .finally(() => live && setBusy(false));
    }, 250);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [store, q, onlyHere]);

  const more = async () => {
    if (!results?.next) return;
    setBusy(true);
    try {
      const page = await store.searchMessages(results.q, { ...scope, before: results.next });
      setResults({
        q: results.q,
        messages: [...results.messages, ...page.messages],
        next: page.next,
      });
    } catch (err) {
      console.warn('parley: message search', err);
      setFailed(reasonOf(err));
    } finally {
      setBusy(false);
    }
  };

  const open = (m: MessageView) => {
    props.onClose();
    void store.reveal(m.conversation, m.seq);
  };

  return (
    <Modal store={props.store} title="Search messages" onClose={props.onClose}>
      <form class="dialog-form" role="search" onSubmit={(e) => e.preventDefault()}>
        <label for="search-words">Words to find</label>
        <input
          id="search-words"
          type="search"
          autoComplete="off"
          autoFocus
          value={q}
          onInput={(e) => setQ(e.currentTarget.value)}
        />
        {active && (
          <label class="check">
            <input
              type="checkbox"
              checked={onlyHere}
              onChange={(e) => setOnlyHere(e.currentTarget.checked)}
            />
            Only in {active.title}
          </label>
        )}
      </form>
      <div class="search-results" aria-live="polite" aria-busy={busy}>
        {failed !== null && <p class="list-empty">{failed}</p>}
        {failed === null && results && results.messages.length === 0 && !results.next && (
          <p class="list-empty">No messages found.</p>
        )}
        {results && results.messages.length > 0 && (
          <ul class="found-messages" aria-label="Messages found">
            {results.messages.map((m) => (
              <li key={`${m.conversation}/${m.seq}`}>
                <button type="button" class="found-message" onClick={() => open(m)}>
                  <span class="found-top">
                    <span class="found-where">
                      {store.conversations.get(m.conversation)?.title ?? 'Conversation'}
                    </span>
                    <time>{shortTime(m.at)}</time>
                  </span>
                  <span class="found-text">
                    <span class="found-sender">
                      {m.sender === store.me.id ? 'You' : store.nameOf(m.sender)}:
                    </span>{' '}
                    <Highlighted text={previewOf(m.body, store.nameOf)} q={results.q} />
                  </span>
                </button>
              </li>
            ))}
          </ul>
        )}
        {results?.next && (
          <button type="button" class="quiet" disabled={busy} onClick={() => void more()}>
            {busy ? 'Searching…' : 'More results'}
          </button>
        )}
      </div>
    </Modal>
  );
}
