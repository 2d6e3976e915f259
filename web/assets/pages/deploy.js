// Placeholder: being written.
import { clear, h } from "../lib/dom.js";

export default {
  title: "deploy",
  mount(root) {
    clear(root, h("h1", {}, "deploy"), h("p", { class: "note" }, "This page is being written."));
    return null;
  },
};
