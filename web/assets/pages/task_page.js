// Placeholder: being written.
import { clear, h } from "../lib/dom.js";

export default {
  title: "task_page",
  mount(root) {
    clear(root, h("h1", {}, "task_page"), h("p", { class: "note" }, "This page is being written."));
    return null;
  },
};
