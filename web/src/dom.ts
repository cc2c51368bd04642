/** A tiny element builder: text always goes in as text, so nothing from the API becomes markup. */

type Attrs = Record<string, string | number | boolean | undefined>;
type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (name === 'class') el.className = String(value);
    else if (name === 'checked' || name === 'value') Object.assign(el, { [name]: value });
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) if (child) el.append(child);
  return el;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from index.html`);
  return el as T;
}

/** Replaces a container's content, keeping keyboard focus on the element with the same id. */
export function replace(container: HTMLElement, ...children: Child[]): void {
  const focused = document.activeElement?.id;
  container.replaceChildren(...children.filter((c): c is Node | string => !!c));
  if (focused && container.querySelector(`#${CSS.escape(focused)}`))
    document.getElementById(focused)?.focus();
}

export function when(iso: string | null | undefined, never = 'never'): Node {
  if (!iso) return document.createTextNode(never);
  const date = new Date(iso);
  return h('time', { datetime: iso, title: iso }, date.toLocaleString());
}

/**
 * A table whose roles are spelled out: on phones CSS stacks its rows (display: block), which would
 * otherwise take the table semantics away from screen readers.
 */
export function table(caption: string, head: string[], rows: Node[][]): HTMLTableElement {
  return h(
    'table',
    { role: 'table' },
    h('caption', { class: 'sr-only' }, caption),
    h(
      'thead',
      { role: 'rowgroup' },
      h(
        'tr',
        { role: 'row' },
        ...head.map((t) => h('th', { scope: 'col', role: 'columnheader' }, t)),
      ),
    ),
    // data-label names each cell where narrow screens stack a row's cells under each other.
    h(
      'tbody',
      { role: 'rowgroup' },
      ...rows.map((cells) =>
        h(
          'tr',
          { role: 'row' },
          ...cells.map((c, i) => h('td', { role: 'cell', 'data-label': head[i] }, c)),
        ),
      ),
    ),
  );
}
