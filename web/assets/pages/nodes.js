// Placeholder: being written.
import { clear, h } from "../lib/dom.js";

export default {
  title: "nodes",
  mount(root) {
    clear(root, h("h1", {}, "nodes"), h("p", { class: "note" }, "This page is being written."));
    return null;
  },
};
