// Placeholder: being written.
import { clear, h } from "../lib/dom.js";

export default {
  title: "tasks",
  mount(root) {
    clear(root, h("h1", {}, "tasks"), h("p", { class: "note" }, "This page is being written."));
    return null;
  },
};
