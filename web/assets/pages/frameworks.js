// Placeholder: being written.
import { clear, h } from "../lib/dom.js";

export default {
  title: "frameworks",
  mount(root) {
    clear(root, h("h1", {}, "frameworks"), h("p", { class: "note" }, "This page is being written."));
    return null;
  },
};
