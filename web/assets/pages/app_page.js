// Placeholder: being written.
import { clear, h } from "../lib/dom.js";

export default {
  title: "app_page",
  mount(root) {
    clear(root, h("h1", {}, "app_page"), h("p", { class: "note" }, "This page is being written."));
    return null;
  },
};
