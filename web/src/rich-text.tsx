// A message's text with light formatting, as WhatsApp and Slack write it: *bold*, _italic_,
// `code`, ``` code blocks ```, "> " quotes, and links (http, https and mailto only). Built as
// nodes from the text, never as HTML: whatever a sender types stays text.
import type { ComponentChildren } from 'preact';

type Block = { kind: 'plain' | 'quote' | 'code'; text: string };

const FENCE = '```';

/** Splits a text into plain runs, quotes (lines starting with ">") and fenced code blocks. */
export function blocksOf(text: string): Block[] {
  const blocks: Block[] = [];
  const push = (kind: Block['kind'], line: string) => {
    const last = blocks.at(-1);
    if (last && last.kind === kind && kind !== 'code') last.text += `\n${line}`;
    else blocks.push({ kind, text: line });
  };
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const close = line.startsWith(FENCE) ? findFence(lines, i + 1) : -1;
    if (close >= 0) {
      const first = line.slice(FENCE.length);
      const body = [...(first ? [first] : []), ...lines.slice(i + 1, close)];
      blocks.push({ kind: 'code', text: body.join('\n') });
      i = close;
    } else if (/^>\s?/.test(line)) {
      push('quote', line.replace(/^>\s?/, ''));
    } else {
      push('plain', line);
    }
  }
  return blocks;
}

function findFence(lines: string[], from: number): number {
  for (let j = from; j < lines.length; j++) if (lines[j]?.startsWith(FENCE)) return j;
  return -1;
}

// One alternation, leftmost match first: inline code, a link, bold, italic.
const INLINE =
  /(`[^`\n]+`)|((?:https?:\/\/|mailto:)[^\s<>"]+)|(\*[^\s*](?:[^*\n]*?[^\s*])?\*)|(_[^\s_](?:[^_\n]*?[^\s_])?_)/g;
const WORD = /[\p{L}\p{N}_]/u;
const TRAILING = /[.,;:!?'")\]}]+$/;

/** The link a text points to, or null unless it is a well-formed http, https or mailto URL. */
export function safeHref(text: string): string | null {
  try {
    const url = new URL(text);
    return ['http:', 'https:', 'mailto:'].includes(url.protocol) ? url.href : null;
  } catch {
    // Not a URL: it stays text.
    return null;
  }
}

/** Whether a *…* or _…_ stands alone, not inside a word (snake_case stays as it is). */
function standsAlone(text: string, start: number, end: number): boolean {
  return !WORD.test(text.charAt(start - 1)) && !WORD.test(text.charAt(end));
}

/** Inline formatting of one run of text, as nodes. */
export function inline(text: string): ComponentChildren[] {
  const out: ComponentChildren[] = [];
  let plainFrom = 0;
  const re = new RegExp(INLINE.source, 'gu');
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const [whole, code, link, bold, italic] = m;
    const start = m.index;
    let end = start + whole.length;
    let node: ComponentChildren = null;
    if (code !== undefined) {
      node = <code>{code.slice(1, -1)}</code>;
    } else if (link !== undefined) {
      const trimmed = link.replace(TRAILING, '');
      const href = safeHref(trimmed);
      end = start + trimmed.length;
      if (href !== null) {
        node = (
          <a href={href} target="_blank" rel="noopener noreferrer">
            {trimmed}
          </a>
        );
      }
    } else if ((bold ?? italic) !== undefined && standsAlone(text, start, end)) {
      const inner = inline(whole.slice(1, -1));
      node = bold !== undefined ? <strong>{inner}</strong> : <em>{inner}</em>;
    }
    if (node === null) {
      // Not formatting after all: the first character stays text, and the scan goes on.
      re.lastIndex = start + 1;
      continue;
    }
    if (start > plainFrom) out.push(text.slice(plainFrom, start));
    out.push(node);
    plainFrom = end;
    re.lastIndex = end;
  }
  if (plainFrom < text.length) out.push(text.slice(plainFrom));
  return out;
}

/** A message's text: one paragraph when it has no blocks, else its paragraphs, quotes and code. */
export function RichText(props: { text: string; class?: string }) {
  const cls = `text${props.class ? ` ${props.class}` : ''}`;
  const blocks = blocksOf(props.text);
  if (blocks.every((b) => b.kind === 'plain')) return <p class={cls}>{inline(props.text)}</p>;
  return (
    <div class={`${cls} rich`}>
      {blocks.map((b, i) =>
        b.kind === 'code' ? (
          <pre key={i}>
            <code>{b.text}</code>
          </pre>
        ) : b.kind === 'quote' ? (
          <blockquote key={i}>{inline(b.text)}</blockquote>
        ) : (
          <p key={i}>{inline(b.text)}</p>
        ),
      )}
    </div>
  );
}
