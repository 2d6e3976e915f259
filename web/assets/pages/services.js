// Placeholder: being written.
import { clear, h } from "../lib/dom.js";

export default {
  title: "services",
  mount(root) {
    clear(root, h("h1", {}, "services"), h("p", { class: "note" }, "This page is being written."));
    return null;
  },
};
