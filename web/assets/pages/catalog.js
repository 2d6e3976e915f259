// Placeholder: being written.
import { clear, h } from "../lib/dom.js";

export default {
  title: "catalog",
  mount(root) {
    clear(root, h("h1", {}, "catalog"), h("p", { class: "note" }, "This page is being written."));
    return null;
  },
};
