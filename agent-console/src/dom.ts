/** Children of an element: nodes, or strings that become text nodes (never HTML). */
export type Child = Node | string | number | null | undefined | false;

/** Creates an element; strings become text nodes, so nothing a user typed is ever parsed as HTML. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: { class?: string; attrs?: Record<string, string> } = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (props.class) e.className = props.class;
  for (const [k, v] of Object.entries(props.attrs ?? {})) e.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined && c !== false) e.append(typeof c === 'number' ? String(c) : c);
  return e;
}

/** A button of type=button. */
export function button(label: string, onClick: () => void, cls = '', attrs: Record<string, string> = {}): HTMLButtonElement {
  const b = el('button', { class: cls, attrs: { type: 'button', ...attrs } }, label);
  b.addEventListener('click', () => onClick());
  return b;
}

/** Replaces an element's children. */
export function fill(target: Element, ...children: Child[]): void {
  target.replaceChildren();
  for (const c of children) if (c !== null && c !== undefined && c !== false) target.append(typeof c === 'number' ? String(c) : c);
}

/** "3 分 12 秒" from seconds. */
export function duration(s: number): string {
  if (s < 60) return `${s} 秒`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} 分 ${s % 60} 秒` : `${Math.floor(m / 60)} 小时 ${m % 60} 分`;
}
