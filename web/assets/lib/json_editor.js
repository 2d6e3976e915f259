// A small JSON editor: a monospace textarea with line numbers, JSON syntax checked as you type
// (the message names line and column), and errors shown AT a JSON path: the server answers 422
// with details[].path such as "/healthChecks/0/portIndex"; locatePath() finds the line of that
// path in the text (tolerant: a path that is absent falls back to its nearest present parent)
// and the editor highlights that line and lists the error there.
//
// API:
//   const ed = jsonEditor({label, id?, value?, rows?, onChange?(text)})
//   ed.element            the node to insert (label, editor, messages)
//   ed.textarea           the <textarea> (labelled by `label`)
//   ed.getText() / ed.setText(text)
//   ed.getValue()         -> {ok: true, value} | {ok: false, error: "… (line L, column C)"}
//   ed.setValue(object)   pretty-prints it
//   ed.markErrors(details) details = [{path, errors: [...]}]; highlights lines, lists them;
//                          returns the details it could not place (path "" or "/")
//   ed.clearErrors()
//   ed.focusPath(path)    puts the caret on that path's line
//   locatePath(text, path) -> {line, exact} | null   (also exported alone)

import { h } from "./dom.js";

let counter = 0;

// Offsets of every JSON path in `text`: a tolerant recursive-descent walk that records where each
// value starts (for object members, where its key starts) and stops quietly at the first error.
// Returns {positions: Map(path -> offset), errorAt: offset | -1}.
export function scanPaths(text) {
  const positions = new Map();
  let i = 0;
  const ws = () => { while (i < text.length && " \t\r\n".includes(text[i])) i++; };
  const fail = () => { throw new Error("syntax"); };
  const str = () => {
    if (text[i] !== '"') fail();
    let out = "";
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === "\\") {
        const n = text[i + 1];
        if (n === "u") { out += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16)); i += 6; continue; }
        out += { n: "\n", t: "\t", r: "\r", b: "\b", f: "\f" }[n] || n;
        i += 2;
        continue;
      }
      if (text[i] === "\n") fail();
      out += text[i++];
    }
    if (text[i] !== '"') fail();
    i++;
    return out;
  };
  const esc = (k) => String(k).replace(/~/g, "~0").replace(/\//g, "~1");
  const value = (path, at) => {
    ws();
    if (!positions.has(path)) positions.set(path, at ?? i);
    const c = text[i];
    if (c === "{") {
      i++; ws();
      if (text[i] === "}") { i++; return; }
      for (;;) {
        ws();
        const keyAt = i;
        const key = str();
        ws();
        if (text[i] !== ":") fail();
        i++;
        value(`${path}/${esc(key)}`, keyAt);
        ws();
        if (text[i] === ",") { i++; continue; }
        if (text[i] === "}") { i++; return; }
        fail();
      }
    } else if (c === "[") {
      i++; ws();
      if (text[i] === "]") { i++; return; }
      for (let n = 0; ; n++) {
        value(`${path}/${n}`);
        ws();
        if (text[i] === ",") { i++; continue; }
        if (text[i] === "]") { i++; return; }
        fail();
      }
    } else if (c === '"') str();
    else {
      const m = /^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 64));
      if (!m) fail();
      i += m[0].length;
    }
  };
  let errorAt = -1;
  try {
    value("");
    ws();
    if (i < text.length) fail();
  } catch {
    errorAt = Math.min(i, text.length);
  }
  return { positions, errorAt };
}

function lineCol(text, offset) {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  return { line, column: offset - before.lastIndexOf("\n") };
}

// The 1-based line of a JSON pointer path, or of its nearest present parent (exact: false).
export function locatePath(text, path) {
  const { positions } = scanPaths(text);
  let p = path === "/" ? "" : String(path || "");
  let exact = true;
  for (;;) {
    if (positions.has(p)) return { line: lineCol(text, positions.get(p)).line, exact };
    if (!p) return null;
    p = p.slice(0, p.lastIndexOf("/"));
    exact = false;
  }
}

export function jsonEditor({ label, id, value, rows = 18, onChange } = {}) {
  const uid = id || `json-editor-${++counter}`;
  const gutter = h("div", { class: "je-gutter", "aria-hidden": "true" });
  const bands = h("div", { class: "je-bands", "aria-hidden": "true" });
  const textarea = h("textarea", {
    id: uid, class: "je-text", rows, spellcheck: "false", wrap: "off", autocomplete: "off",
    autocapitalize: "off", "aria-describedby": `${uid}-syntax ${uid}-errors`,
  });
  const syntax = h("p", { id: `${uid}-syntax`, class: "je-syntax hint", "aria-live": "polite" });
  const errorList = h("ul", { id: `${uid}-errors`, class: "je-errors" });
  const element = h("div", { class: "je" },
    h("label", { for: uid }, label || "JSON"),
    h("div", { class: "je-box" }, h("div", { class: "je-gutter-wrap" }, gutter), h("div", { class: "je-area" }, bands, textarea)),
    syntax, errorList);
  let marks = [];  // [{line}] lines to highlight

  const lineHeight = () => parseFloat(getComputedStyle(textarea).lineHeight) || 20;
  const drawGutter = () => {
    const n = textarea.value.split("\n").length;
    const bad = new Set(marks.map((m) => m.line));
    if (gutter.childElementCount !== n || bad.size || gutter.dataset.bad) {
      const nums = [];
      for (let k = 1; k <= n; k++) nums.push(h("span", { class: bad.has(k) ? "bad" : null }, String(k)));
      gutter.replaceChildren(...nums);
      gutter.dataset.bad = bad.size ? "1" : "";
    }
    gutter.scrollTop = textarea.scrollTop;
    drawBands();
  };
  // Highlight bands sit under the (transparent) textarea, moved with its scroll.
  const drawBands = () => {
    const lh = lineHeight();
    const pad = parseFloat(getComputedStyle(textarea).paddingTop) || 0;
    bands.replaceChildren(...marks.map((m) => {
      const b = h("span", { class: "je-band" });
      b.style.top = `${pad + (m.line - 1) * lh - textarea.scrollTop}px`;
      b.style.height = `${lh}px`;
      return b;
    }));
  };
  const check = () => {
    const text = textarea.value;
    const r = api.getValue();
    syntax.textContent = r.ok ? "Valid JSON." : r.error;
    syntax.classList.toggle("bad", !r.ok);
    textarea.setAttribute("aria-invalid", String(!r.ok || marks.length > 0));
    drawGutter();
    return text;
  };
  textarea.addEventListener("input", () => {
    check();
    if (onChange) onChange(textarea.value);
  });
  textarea.addEventListener("scroll", () => {
    gutter.scrollTop = textarea.scrollTop;
    drawBands();
  });
  // Tab is left alone (it moves focus), so the editor never traps the keyboard.

  const api = {
    element,
    textarea,
    getText: () => textarea.value,
    setText(text) {
      textarea.value = text;
      marks = [];
      errorList.replaceChildren();
      check();
    },
    getValue() {
      const text = textarea.value;
      try {
        return { ok: true, value: JSON.parse(text) };
      } catch (e) {
        const m = /position (\d+)/.exec(e.message);
        const at = m ? Number(m[1]) : Math.max(0, scanPaths(text).errorAt);
        const { line, column } = lineCol(text, at);
        const reason = String(e.message).replace(/\s*in JSON at position.*$/, "").replace(/^JSON\.parse: /, "");
        return { ok: false, error: `Not valid JSON: ${reason} (line ${line}, column ${column})`, line, column };
      }
    },
    setValue(obj) {
      api.setText(JSON.stringify(obj, null, 2));
    },
    markErrors(details) {
      const text = textarea.value;
      const unplaced = [];
      marks = [];
      const items = [];
      for (const d of details || []) {
        const where = d.path && d.path !== "/" ? locatePath(text, d.path) : null;
        if (!where) {
          unplaced.push(d);
          continue;
        }
        marks.push({ line: where.line });
        const go = h("button", { type: "button", class: "link", onclick: () => api.focusPath(d.path) }, `Line ${where.line}`);
        items.push(h("li", { class: "field-error", dataset: { path: d.path } }, go, " ", h("code", {}, d.path), ": ",
          (d.errors || []).join(", "), where.exact ? "" : " (not in the text: shown at its parent)"));
      }
      errorList.replaceChildren(...items);
      check();
      // Bring the first marked line into view (without taking the focus).
      if (marks.length) textarea.scrollTop = Math.max(0, (Math.min(...marks.map((m) => m.line)) - 3) * lineHeight());
      return unplaced;
    },
    clearErrors() {
      marks = [];
      errorList.replaceChildren();
      check();
    },
    focusPath(path) {
      const where = locatePath(textarea.value, path);
      if (!where) return;
      const lines = textarea.value.split("\n");
      let offset = 0;
      for (let k = 0; k < where.line - 1; k++) offset += lines[k].length + 1;
      textarea.focus();
      textarea.setSelectionRange(offset, offset + lines[where.line - 1].length);
      textarea.scrollTop = Math.max(0, (where.line - 3) * lineHeight());
    },
  };
  api.setText(value === undefined ? "" : typeof value === "string" ? value : JSON.stringify(value, null, 2));
  return api;
}
