import { ApiError } from './api';
import { byId } from './dom';

/** Status line, error line and the confirm dialog: the page's only ways of talking back. */

export function say(text: string): void {
  const error = byId('error');
  error.hidden = true;
  error.textContent = '';
  byId('status').textContent = text;
}

export function fail(e: unknown): void {
  byId('status').textContent = '';
  const error = byId('error');
  error.textContent = e instanceof Error ? e.message : String(e);
  error.hidden = false;
}

/** Runs a user action: one at a time, busy while it runs, every failure shown in words. */
export async function act(
  action: () => Promise<void>,
  onUnauthorized: (e: ApiError) => void,
): Promise<void> {
  const main = byId('main');
  main.setAttribute('aria-busy', 'true');
  try {
    await action();
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) onUnauthorized(e);
    else fail(e);
  } finally {
    main.removeAttribute('aria-busy');
  }
}

/** A modal yes/no question; Escape and Cancel answer no. Focus returns to `returnTo`. */
export function confirmAction(
  text: string,
  okLabel: string,
  returnTo?: HTMLElement,
): Promise<boolean> {
  const dialog = byId<HTMLDialogElement>('confirm');
  const ok = byId<HTMLButtonElement>('confirm-ok');
  const cancel = byId<HTMLButtonElement>('confirm-cancel');
  byId('confirm-text').textContent = text;
  ok.textContent = okLabel;
  return new Promise((resolve) => {
    const done = (answer: boolean): void => {
      ok.onclick = cancel.onclick = dialog.oncancel = null;
      dialog.close();
      resolve(answer);
      returnTo?.focus();
    };
    ok.onclick = () => done(true);
    cancel.onclick = () => done(false);
    dialog.oncancel = (e) => {
      e.preventDefault();
      done(false);
    };
    dialog.showModal();
    cancel.focus();
  });
}
