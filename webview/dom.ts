// Small DOM builders. They only ever set text through textContent and values through
// setAttribute, so a model-supplied string can never become markup.

type Attributes = Record<string, string | number | boolean | undefined>;

export interface ElementOptions {
  className?: string;
  text?: string;
  attrs?: Attributes;
}

/** An HTML element with a class, text and attributes; `children` are appended in order. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  options: ElementOptions = {},
  children: readonly Node[] = [],
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  apply(node, options);
  node.append(...children);
  return node;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An SVG element, built the same way. */
export function svg<K extends keyof SVGElementTagNameMap>(tag: K, options: ElementOptions = {}, children: readonly Node[] = []): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG_NS, tag);
  apply(node, options);
  node.append(...children);
  return node;
}

function apply(node: Element, { className, text, attrs }: ElementOptions): void {
  if (className) node.setAttribute('class', className);
  if (text !== undefined) node.textContent = text;
  if (attrs) setAttributes(node, attrs);
}

/** Sets each attribute; `false` and `undefined` remove it, `true` sets it empty. */
export function setAttributes(node: Element, attrs: Attributes): void {
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) node.removeAttribute(name);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
}
