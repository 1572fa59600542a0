import { ParleyError } from '../../core/errors.js';
import type { MessageBody } from '../model.js';

// Message search (docs/messages.md#search): what a search query is, and what of a message it
// finds. Both stores index the same fields and take the same words; each turns the words into
// its own full-text query (SQLite FTS5, PostgreSQL tsquery).

/** The body fields a search looks in: a text's text, a media caption, a file name, a place. */
export const SEARCH_FIELDS = ['text', 'caption', 'name', 'label'] as const;

/** Most words one search may hold, and the longest word, in characters. */
export const SEARCH_WORDS_MAX = 8;
export const SEARCH_WORD_CHARS_MAX = 64;
/** Longest query string, in characters, before it is split into words. */
export const SEARCH_QUERY_CHARS_MAX = 256;

/** What the stores index of a body: its searchable fields, one per line; '' when it has none. */
export function searchableText(body: MessageBody): string {
  if (body.kind === 'recalled') return '';
  const parts: string[] = [];
  for (const field of SEARCH_FIELDS) {
    const value = body[field];
    if (typeof value === 'string' && value.length > 0) parts.push(value);
  }
  return parts.join('\n');
}

/** Whether searchableText(body) is not empty, without building it (the append asks per send). */
export function hasSearchableText(body: MessageBody): boolean {
  if (body.kind === 'recalled') return false;
  for (const field of SEARCH_FIELDS) {
    const value = body[field];
    if (typeof value === 'string' && value.length > 0) return true;
  }
  return false;
}

// A word is a run of letters, digits and combining marks: what SQLite's unicode61 tokenizer and
// PostgreSQL's parser both treat as word characters, so the same query finds the same messages.
const WORD_RE = /[\p{L}\p{N}\p{M}]+/gu;

/**
 * The words of a query, lowercased, each once, in order. Every word must occur in a message for
 * it to match; the last one also matches as the start of a longer word (unless it is one
 * character), so that a search as one types finds "meeting" from "meet".
 * invalid_search when there is no word, more than SEARCH_WORDS_MAX, or a word is too long.
 */
export function searchWords(query: unknown): string[] {
  if (typeof query !== 'string' || query.length > SEARCH_QUERY_CHARS_MAX) {
    throw new ParleyError('invalid_search');
  }
  const words = [...new Set(query.toLowerCase().match(WORD_RE) ?? [])];
  if (
    words.length === 0 ||
    words.length > SEARCH_WORDS_MAX ||
    words.some((w) => w.length > SEARCH_WORD_CHARS_MAX)
  ) {
    throw new ParleyError('invalid_search');
  }
  return words;
}

/** Whether the last word of a search also matches longer words that start with it. */
export const lastWordIsPrefix = (words: readonly string[]): boolean =>
  [...(words.at(-1) ?? '')].length > 1;
