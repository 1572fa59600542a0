// What the user is told: toasts, and errors shown inside the dialog that caused them. A slice of
// its own because every other part of the store reports through it.
import type { Notice } from './types.js';

/** Toasts kept on screen at once besides the newest. */
const TOASTS_KEPT = 2;
const NOTICE_SHOWN_MS = 8000;

export class Notices {
  list: readonly Notice[] = [];
  #lastId = 0;
  /** Dialogs open now, innermost last; ids share one counter with notices. */
  #dialogs: number[] = [];
  readonly #changed: () => void;

  constructor(changed: () => void) {
    this.#changed = changed;
  }

  /**
   * Says something to the user. While a dialog is open, what happens is the dialog's doing, so
   * it shows inside it (a toast would sit behind the modal's backdrop), an error until the
   * dialog closes; `background` notices (pushes, the outbox) are toasts all the same.
   */
  notify(kind: Notice['kind'], text: string, background = false): void {
    const id = ++this.#lastId;
    const dialog = background ? undefined : this.#dialogs.at(-1);
    if (dialog === undefined) {
      const toasts = this.list.filter((n) => n.dialog === undefined).slice(-TOASTS_KEPT);
      const inDialogs = this.list.filter((n) => n.dialog !== undefined);
      this.list = [...inDialogs, ...toasts, { kind, text, id }];
    } else {
      // One at a time in a dialog: the newest says how its last action went.
      const others = this.list.filter((n) => n.dialog !== dialog);
      this.list = [...others, { kind, text, id, dialog }];
    }
    this.#changed();
    if (dialog === undefined || kind === 'info') {
      setTimeout(() => this.dismiss(id), NOTICE_SHOWN_MS);
    }
  }

  /** A dialog opened: until it closes, what is raised shows inside it. Returns its id. */
  openDialog(): number {
    const id = ++this.#lastId;
    this.#dialogs.push(id);
    return id;
  }

  closeDialog(id: number): void {
    this.#dialogs = this.#dialogs.filter((d) => d !== id);
    this.list = this.list.filter((n) => n.dialog !== id);
    this.#changed();
  }

  dismiss(id: number): void {
    this.list = this.list.filter((n) => n.id !== id);
    this.#changed();
  }
}
