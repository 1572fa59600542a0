// The sidebar's actions: Search, a "New" button (new chat, new group, join with code) and a
// "Menu" button (contacts, profile, account, log out), as Slack and Telegram have a compose
// button and a menu instead of a row of buttons. Each opens a short list of buttons below it
// (a disclosure: Escape or a click elsewhere closes it, and focus goes back to its button).
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';

export interface MenuItem {
  readonly label: string;
  readonly run: () => void;
  readonly quiet?: boolean;
}

function Disclosure(props: { label: string; id: string; items: readonly MenuItem[] }) {
  const [open, setOpen] = useState(false);
  const root = useRef<HTMLDivElement>(null);
  const toggle = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (!open) return;
    root.current?.querySelector<HTMLButtonElement>('.sidebar-menu button')?.focus();
    const away = (e: Event) => {
      if (!root.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('pointerdown', away);
    return () => document.removeEventListener('pointerdown', away);
  }, [open]);
  const close = () => {
    setOpen(false);
    toggle.current?.focus();
  };
  return (
    <div
      class="disclosure"
      ref={root}
      onKeyDown={(e) => {
        if (e.key === 'Escape' && open) {
          e.stopPropagation();
          close();
        }
      }}
    >
      <button
        ref={toggle}
        type="button"
        aria-expanded={open}
        aria-controls={props.id}
        onClick={() => setOpen(!open)}
      >
        {props.label}
      </button>
      {open && (
        <div class="sidebar-menu" id={props.id}>
          {props.items.map((item) => (
            <button
              key={item.label}
              type="button"
              class={item.quiet ? 'quiet' : undefined}
              onClick={() => {
                setOpen(false);
                item.run();
              }}
            >
              {item.label}
            </button>
          ))}
        </div>
      )}
    </div>
  );
}

export function SidebarActions(props: {
  onSearch: () => void;
  compose: readonly MenuItem[];
  menu: readonly MenuItem[];
  children?: ComponentChildren;
}) {
  return (
    <div class="sidebar-actions">
      <button type="button" onClick={props.onSearch}>
        Search
      </button>
      <Disclosure label="New" id="compose-menu" items={props.compose} />
      <Disclosure label="Menu" id="main-menu" items={props.menu} />
      {props.children}
    </div>
  );
}
