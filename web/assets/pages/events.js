// Placeholder: being written. summarizeEvent is used by the overview.
import { clear, h } from "../lib/dom.js";

// One line for an event of either stream.
export function summarizeEvent(e) {
  return `${e.type}`;
}

export default {
  title: "Events",
  mount(root) {
    clear(root, h("h1", {}, "Events"), h("p", { class: "note" }, "This page is being written."));
    return null;
  },
};
