// Small DOM attachments ({@attach …}) shared by components.

/** Focuses the element once it is in the page (instead of `autofocus`, which fires too early). */
export function focusOnMount(node: HTMLElement) {
  node.focus();
}
