// Placeholder: being written.
import { clear, h } from "../lib/dom.js";

export default {
  title: "deployments",
  mount(root) {
    clear(root, h("h1", {}, "deployments"), h("p", { class: "note" }, "This page is being written."));
    return null;
  },
};
