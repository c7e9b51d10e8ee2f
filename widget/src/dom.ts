/** Children of an element: nodes, or strings that become text nodes (never HTML). */
export type Child = Node | string | null | undefined | false;

/** Creates an element with a class, attributes and children; strings are appended as text. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: { class?: string; attrs?: Record<string, string> } = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (props.class) e.className = props.class;
  for (const [k, v] of Object.entries(props.attrs ?? {})) e.setAttribute(k, v);
  for (const c of children) if (c) e.append(c);
  return e;
}

/** A button of type=button with a label. */
export function button(label: string, cls: string, onClick: (ev: MouseEvent) => void, attrs: Record<string, string> = {}): HTMLButtonElement {
  const b = el('button', { class: cls, attrs: { type: 'button', ...attrs } }, label);
  b.addEventListener('click', onClick);
  return b;
}
