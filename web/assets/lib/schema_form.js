// A form generated from a JSON Schema (draft-04, the keywords Universe's config.json uses):
// objects as fieldsets with legends, string/number/integer/boolean inputs, enums as selects,
// arrays of simple values as one-per-line textareas, anything else as JSON text. Every input has
// a <label for> with the property's title or name; descriptions are hints and errors are linked
// with aria-describedby. Hostile schemas degrade: unknown types are text, nesting is limited.
//
// schemaForm(schema, values) -> {element, value(), defaults(), setErrors(details) -> unmatched,
//   clearErrors(), focusFirstError()}

import { h } from "./dom.js";

const MAX_DEPTH = 6;         // fieldsets deeper than this are edited as JSON
const MAX_PROPERTIES = 300;  // per object
let formCounter = 0;

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const SIMPLE = new Set(["string", "number", "integer", "boolean"]);

// A JSON pointer token ("a/b" -> "a~1b").
const token = (name) => String(name).replace(/~/g, "~0").replace(/\//g, "~1");

// The schema's type: the first non-null one of a list; objects and enums are recognized without one.
function typeOf(schema) {
  let t = schema.type;
  if (Array.isArray(t)) t = t.find((x) => x !== "null") || t[0];
  if (typeof t !== "string") {
    if (isObject(schema.properties)) return "object";
    if (Array.isArray(schema.enum)) return "enum";
    return "unknown";
  }
  if (Array.isArray(schema.enum) && schema.enum.length && t !== "object" && t !== "array") return "enum";
  return t;
}

// The defaults a schema declares, as Cosmos merges them: nested objects' defaults included.
export function schemaDefaults(schema, depth = 0) {
  if (!isObject(schema) || depth > 64) return undefined;
  if (schema.default !== undefined && !isObject(schema.default)) return schema.default;
  if (typeOf(schema) !== "object" || !isObject(schema.properties)) return schema.default;
  const out = isObject(schema.default) ? { ...schema.default } : {};
  for (const [name, sub] of Object.entries(schema.properties)) {
    const d = schemaDefaults(sub, depth + 1);
    if (d !== undefined && !(isObject(d) && !Object.keys(d).length && !isObject(sub.default))) out[name] = d;
  }
  return out;
}

// What `value` has that `base` does not (deeply): the options worth sending.
export function diffOptions(value, base) {
  if (!isObject(value)) return JSON.stringify(value) === JSON.stringify(base) ? undefined : value;
  const out = {};
  for (const [k, v] of Object.entries(value)) {
    const d = diffOptions(v, isObject(base) ? base[k] : undefined);
    if (d !== undefined) out[k] = d;
  }
  return Object.keys(out).length || !isObject(base) ? out : undefined;
}

export function schemaForm(schema, values = {}) {
  const prefix = `sf${++formCounter}`;
  const fields = [];  // {path, control, error, hint, describedBy, box}
  const safeSchema = isObject(schema) ? schema : {};
  let idCount = 0;
  const newId = (what) => `${prefix}-${what}-${++idCount}`;

  // A labelled control, its hint and its error slot.
  function field(path, name, schema, required, control, { checkbox = false } = {}) {
    control.id = newId("f");
    const title = typeof schema.title === "string" && schema.title.trim() ? schema.title : name;
    const label = h("label", { for: control.id }, title);
    const hintId = newId("hint");
    const errorId = newId("err");
    const hints = [];
    if (typeof schema.description === "string" && schema.description) hints.push(schema.description);
    const shownDefault = schema.default;
    if (shownDefault !== undefined && !isObject(shownDefault) && typeof shownDefault !== "boolean") {
      hints.push(`Default: ${Array.isArray(shownDefault) ? shownDefault.join(", ") || "none" : shownDefault}.`);
    }
    const hint = hints.length ? h("div", { class: "hint", id: hintId }, hints.join(" ")) : null;
    const error = h("div", { class: "field-error", id: errorId, hidden: true });
    const describedBy = hint ? hintId : "";
    if (describedBy) control.setAttribute("aria-describedby", describedBy);
    if (required) control.setAttribute("aria-required", "true");
    const req = required ? h("span", { class: "badge neutral sf-req" }, "required") : null;
    const head = checkbox
      ? h("div", { class: "sf-head sf-check" }, control, label, req)
      : h("div", { class: "sf-head" }, label, req);
    const box = h("div", { class: "sf-field", dataset: { path } }, head, checkbox ? null : control, hint, error);
    fields.push({ path, control, error, errorId, describedBy, box });
    return box;
  }

  // Builds the node for `schema` at `path`; returns [element, read() -> value | undefined].
  function build(schema, path, name, value, required, depth) {
    if (!isObject(schema)) schema = {};
    const type = typeOf(schema);
    const current = value !== undefined ? value : schemaDefaults(schema);

    if (type === "object" && isObject(schema.properties) && depth < MAX_DEPTH) {
      const req = new Set(Array.isArray(schema.required) ? schema.required.map(String) : []);
      const children = [];
      const readers = [];
      // Required properties first (describe answers them sorted by name, so the order is not the author's).
      const entries = Object.entries(schema.properties).slice(0, MAX_PROPERTIES);
      entries.sort((a, b) => Number(req.has(b[0])) - Number(req.has(a[0])));
      for (const [childName, sub] of entries) {
        const childValue = isObject(current) ? current[childName] : undefined;
        const [el, read] = build(sub, `${path}/${token(childName)}`, childName, childValue, req.has(childName), depth + 1);
        children.push(el);
        readers.push([childName, read]);
      }
      // Values the schema does not describe are kept (and left to the server to judge).
      const extra = isObject(current) ? Object.keys(current).filter((k) => !(k in schema.properties)) : [];
      const read = () => {
        const out = {};
        for (const k of extra) out[k] = current[k];
        for (const [k, r] of readers) {
          const v = r();
          if (v !== undefined) out[k] = v;
        }
        return out;
      };
      if (depth === 0) return [h("div", { class: "sf-root" }, children), read];
      const title = typeof schema.title === "string" && schema.title.trim() ? schema.title : name;
      const desc = typeof schema.description === "string" && schema.description ? schema.description : null;
      const legendId = newId("legend");
      const box = h("fieldset", { class: "sf-group", dataset: { path }, "aria-labelledby": legendId },
        h("legend", { id: legendId }, title), desc ? h("div", { class: "hint" }, desc) : null, children);
      const error = h("div", { class: "field-error", id: newId("err"), hidden: true });
      box.append(error);
      fields.push({ path, control: null, error, errorId: error.id, describedBy: "", box });
      return [box, read];
    }

    if (type === "boolean") {
      const input = h("input", { type: "checkbox", checked: current === true });
      return [field(path, name, schema, required, input, { checkbox: true }), () => input.checked];
    }

    if (type === "enum") {
      const options = schema.enum.slice(0, 500);
      const select = h("select", {},
        !required && current === undefined ? h("option", { value: "" }, "(not set)") : null,
        options.map((o, i) => h("option", { value: String(i), selected: JSON.stringify(o) === JSON.stringify(current) },
          o === null ? "null" : typeof o === "object" ? JSON.stringify(o) : String(o))));
      const read = () => (select.value === "" ? undefined : options[Number(select.value)]);
      return [field(path, name, schema, required, select), read];
    }

    if (type === "number" || type === "integer") {
      const input = h("input", { type: "text", inputmode: type === "integer" ? "numeric" : "decimal",
        autocomplete: "off", value: current === undefined || current === null ? "" : String(current) });
      const read = () => {
        const raw = input.value.trim();
        if (raw === "") return undefined;
        const n = Number(raw);
        return Number.isFinite(n) ? n : raw;  // the server reports what is not a number, at its path
      };
      return [field(path, name, schema, required, input), read];
    }

    if (type === "array" && (!isObject(schema.items) || SIMPLE.has(typeOf(schema.items)))) {
      const itemType = isObject(schema.items) ? typeOf(schema.items) : "string";
      const list = Array.isArray(current) ? current : [];
      const area = h("textarea", { class: "sf-list", rows: Math.min(8, Math.max(2, list.length + 1)),
        spellcheck: "false", value: list.map((v) => (typeof v === "string" ? v : JSON.stringify(v))).join("\n") });
      const box = field(path, name, { ...schema, description: [schema.description, "One value per line (or comma-separated)."]
        .filter((x) => typeof x === "string" && x).join(" ") }, required, area);
      const read = () => {
        const text = area.value.trim();
        if (!text) return current === undefined && !required ? undefined : [];
        const parts = (text.includes("\n") ? text.split("\n") : text.split(",")).map((s) => s.trim()).filter(Boolean);
        return parts.map((s) => {
          if (itemType === "number" || itemType === "integer") return Number.isFinite(Number(s)) ? Number(s) : s;
          if (itemType === "boolean") return s === "true" ? true : s === "false" ? false : s;
          return s;
        });
      };
      return [box, read];
    }

    if (type === "string") {
      const long = (typeof current === "string" && (current.length > 80 || current.includes("\n"))) ||
        (Number(schema.maxLength) > 1000);
      const input = long
        ? h("textarea", { class: "sf-text", rows: 4, value: current ?? "" })
        : h("input", { type: schema.format === "password" ? "password" : "text", autocomplete: "off",
          value: typeof current === "string" ? current : current === undefined || current === null ? "" : String(current) });
      const hadValue = current !== undefined;
      const read = () => (input.value === "" && !hadValue && !required ? undefined : input.value);
      return [field(path, name, schema, required, input), read];
    }

    // Objects too deep, arrays of objects, unknown types: JSON text (plain text when it is not JSON).
    const text = current === undefined ? "" : typeof current === "string" && type === "unknown" ? current : JSON.stringify(current, null, 2);
    const structured = type === "object" || type === "array";
    const input = structured || text.includes("\n")
      ? h("textarea", { class: "sf-json", rows: 4, spellcheck: "false", value: text })
      : h("input", { type: "text", autocomplete: "off", value: text });
    const note = structured ? "As JSON." : null;
    const box = field(path, name, { ...schema, description: [schema.description, note].filter((x) => typeof x === "string" && x).join(" ") },
      required, input);
    const read = () => {
      const raw = input.value.trim();
      if (raw === "") return undefined;
      if (structured || typeof current !== "string") {
        try {
          return JSON.parse(raw);
        } catch {
          return input.value;
        }
      }
      return input.value;
    };
    return [box, read];
  }

  const [root, read] = build(safeSchema, "", "options", isObject(values) ? values : {}, false, 0);
  const element = h("div", { class: "schema-form" }, root);

  function clearErrors() {
    for (const f of fields) {
      f.error.hidden = true;
      f.error.textContent = "";
      if (f.control) {
        f.control.removeAttribute("aria-invalid");
        if (f.describedBy) f.control.setAttribute("aria-describedby", f.describedBy);
        else f.control.removeAttribute("aria-describedby");
      }
    }
  }

  // details: [{path: "/service/name", errors: [...]}] -> the ones no field of this form has.
  function setErrors(details) {
    clearErrors();
    const unmatched = [];
    for (const d of details || []) {
      const path = String((d && d.path) || "");
      const errors = Array.isArray(d && d.errors) ? d.errors.map(String) : [String((d && d.errors) ?? "")];
      // The field at the path, or the nearest one above it (an array item's error goes to its array).
      let best = null;
      for (const f of fields) {
        if (f.path && (path === f.path || path.startsWith(`${f.path}/`)) && (!best || f.path.length > best.path.length)) best = f;
      }
      if (!best) {
        unmatched.push({ path, errors });
        continue;
      }
      const extra = path === best.path ? "" : `${path.slice(best.path.length + 1)}: `;
      best.error.textContent = [best.error.textContent, `${extra}${errors.join("; ")}`].filter(Boolean).join(" · ");
      best.error.hidden = false;
      if (best.control) {
        best.control.setAttribute("aria-invalid", "true");
        best.control.setAttribute("aria-describedby", [best.describedBy, best.errorId].filter(Boolean).join(" "));
      }
    }
    return unmatched;
  }

  function focusFirstError() {
    const f = fields.find((x) => !x.error.hidden);
    if (!f) return false;
    const target = f.control || f.box.querySelector("input, select, textarea");
    if (target) target.focus();
    f.box.scrollIntoView({ block: "nearest" });
    return true;
  }

  return {
    element,
    value: () => read(),
    defaults: () => schemaDefaults(safeSchema) || {},
    setErrors,
    clearErrors,
    focusFirstError,
    hasField: (path) => fields.some((f) => f.path === path && f.control),
  };
}
