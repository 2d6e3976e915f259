#include "universe/mustache.hpp"

#include "universe/json_schema.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace dcos::universe {
namespace {

// One node of the parsed template. Sections keep their raw body text for lambdas.
struct Node {
  enum class Kind { kText, kVariable, kSection, kInverted };
  Kind kind = Kind::kText;
  std::string value;  // literal text, or the tag's name
  std::vector<Node> children;
  std::string body;
  int line = 0;
};

Error renderError(const std::string& message) { return Error(ErrorCode::kUnprocessable, message); }

std::string trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

bool isBlank(std::string_view s) { return s.find_first_not_of(" \t") == std::string_view::npos; }

class Parser {
 public:
  explicit Parser(const std::string& text) : t_(text) {}

  Result<std::vector<Node>> parse() {
    size_t pos = 0;
    while (pos < t_.size()) {
      size_t open = t_.find(open_, pos);
      if (open == std::string::npos) {
        appendText(t_.substr(pos));
        break;
      }
      auto next = parseTag(pos, open);
      if (!next.ok()) return std::move(next).error();
      pos = *next;
    }
    if (!stack_.empty()) {
      const Node& n = stack_.back().node;
      return renderError("unclosed section \"" + n.value + "\" opened on line " +
                         std::to_string(n.line));
    }
    return std::move(root_);
  }

 private:
  struct Frame {
    Node node;
    size_t bodyStart;
  };

  int lineOf(size_t offset) const {
    int line = 1;
    for (size_t i = 0; i < offset && i < t_.size(); ++i) line += t_[i] == '\n';
    return line;
  }

  std::vector<Node>& current() { return stack_.empty() ? root_ : stack_.back().node.children; }

  void appendText(std::string text) {
    if (text.empty()) return;
    auto& nodes = current();
    if (!nodes.empty() && nodes.back().kind == Node::Kind::kText) {
      nodes.back().value += text;
    } else {
      nodes.push_back(Node{Node::Kind::kText, std::move(text), {}, {}, 0});
    }
  }

  // Parses the tag starting at `open` (text before it starts at `pos`); returns where to go on.
  Result<size_t> parseTag(size_t pos, size_t open) {
    const int line = lineOf(open);
    size_t p = open + open_.size();
    char type = p < t_.size() ? t_[p] : '\0';
    std::string closeSeq = close_;
    if (type == '{') {
      closeSeq = "}" + close_;
      ++p;
    } else if (type == '=') {
      closeSeq = "=" + close_;
      ++p;
    } else if (std::string_view("#^/!&>").find(type) != std::string_view::npos && type != '\0') {
      ++p;
    } else {
      type = '\0';
    }
    size_t close = t_.find(closeSeq, p);
    if (close == std::string::npos) {
      return renderError("unclosed tag \"" + open_ + "\" on line " + std::to_string(line));
    }
    std::string content = trim(std::string_view(t_).substr(p, close - p));
    size_t end = close + closeSeq.size();

    // A standalone tag (alone on its line but for whitespace) takes its whole line with it.
    size_t lineStart = open == 0 ? std::string::npos : t_.rfind('\n', open - 1);
    lineStart = lineStart == std::string::npos ? 0 : lineStart + 1;
    size_t tagStart = open;
    bool canStandAlone = std::string_view("#^/!=>").find(type) != std::string_view::npos &&
                         type != '\0';
    if (canStandAlone && lineStart >= pos &&
        isBlank(std::string_view(t_).substr(lineStart, open - lineStart))) {
      size_t eol = t_.find('\n', end);
      size_t restEnd = eol == std::string::npos ? t_.size() : eol;
      std::string_view rest = std::string_view(t_).substr(end, restEnd - end);
      if (!rest.empty() && rest.back() == '\r') rest.remove_suffix(1);
      if (isBlank(rest)) {
        tagStart = lineStart;
        end = eol == std::string::npos ? t_.size() : eol + 1;
      }
    }
    appendText(t_.substr(pos, tagStart - pos));
    auto handled = handleTag(type, content, line, tagStart, end);
    if (!handled.ok()) return std::move(handled).error();
    return end;
  }

  Result<void> handleTag(char type, const std::string& content, int line, size_t tagStart,
                         size_t end) {
    switch (type) {
      case '!':
      case '>':  // partials are not part of Universe templates; they render nothing
        return success();
      case '=': {
        std::string_view spec(content);
        size_t sp = spec.find_first_of(" \t");
        if (sp == std::string_view::npos) {
          return renderError("malformed set-delimiter tag on line " + std::to_string(line));
        }
        std::string newOpen(spec.substr(0, sp));
        std::string newClose = trim(spec.substr(sp));
        if (newOpen.empty() || newClose.empty() || newClose.find_first_of(" \t") != std::string::npos) {
          return renderError("malformed set-delimiter tag on line " + std::to_string(line));
        }
        open_ = std::move(newOpen);
        close_ = std::move(newClose);
        return success();
      }
      case '#':
      case '^': {
        Node node{type == '#' ? Node::Kind::kSection : Node::Kind::kInverted, content, {}, {}, line};
        stack_.push_back(Frame{std::move(node), end});
        return success();
      }
      case '/': {
        if (stack_.empty()) {
          return renderError("closing tag \"" + content + "\" on line " + std::to_string(line) +
                             " has no open section");
        }
        Frame frame = std::move(stack_.back());
        stack_.pop_back();
        if (frame.node.value != content) {
          return renderError("closing tag \"" + content + "\" on line " + std::to_string(line) +
                             " does not match section \"" + frame.node.value + "\" opened on line " +
                             std::to_string(frame.node.line));
        }
        frame.node.body = t_.substr(frame.bodyStart, tagStart - frame.bodyStart);
        current().push_back(std::move(frame.node));
        return success();
      }
      default:
        current().push_back(Node{Node::Kind::kVariable, content, {}, {}, line});
        return success();
    }
  }

  const std::string& t_;
  std::string open_ = "{{";
  std::string close_ = "}}";
  std::vector<Node> root_;
  std::vector<Frame> stack_;
};

std::string formatNumber(const Json& v) {
  if (v.is_number_integer()) return v.dump();
  double d = v.get<double>();
  // Cosmos hands integral numbers to mustache as integers: 3.0 prints as 3.
  if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9.0e15) {
    return std::to_string(static_cast<int64_t>(d));
  }
  return v.dump();
}

std::string escapedString(const Json& v) {
  std::string quoted = v.dump(-1, ' ', false, Json::error_handler_t::replace);
  return quoted.substr(1, quoted.size() - 2);
}

// Arrays and objects print as JSON with ", " and ": " separators; strings keep their quotes here.
std::string asJsonText(const Json& v) {
  if (v.is_string()) return "\"" + escapedString(v) + "\"";
  if (v.is_number()) return formatNumber(v);
  if (v.is_array()) {
    std::string out = "[";
    for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + asJsonText(v[i]);
    return out + "]";
  }
  if (v.is_object()) {
    std::string out = "{";
    bool first = true;
    for (auto it = v.begin(); it != v.end(); ++it) {
      out += (first ? "\"" : ", \"") + escapedString(Json(it.key())) + "\": " + asJsonText(*it);
      first = false;
    }
    return out + "}";
  }
  return v.dump();  // true, false, null
}

std::string interpolated(const Json* v) {
  if (v == nullptr || v->is_null()) return {};
  if (v->is_string()) return escapedString(*v);
  return asJsonText(*v);
}

bool isFalsy(const Json* v) {
  return v == nullptr || v->is_null() || (v->is_boolean() && !v->get<bool>()) ||
         (v->is_array() && v->empty()) || (v->is_string() && v->get_ref<const std::string&>().empty());
}

class Renderer {
 public:
  explicit Renderer(const Json& scope) { stack_.push_back(&scope); }

  void render(const std::vector<Node>& nodes, std::string& out) {
    for (const Node& n : nodes) {
      switch (n.kind) {
        case Node::Kind::kText: out += n.value; break;
        case Node::Kind::kVariable: out += interpolated(lookup(n.value)); break;
        case Node::Kind::kSection: renderSection(n, out); break;
        case Node::Kind::kInverted:
          if (isFalsy(lookup(n.value))) render(n.children, out);
          break;
      }
    }
  }

 private:
  // Resolves a dotted name: the first part is searched down the context stack, the rest must
  // follow from there (the spec's rule: no further stack search once the first part is found).
  const Json* lookup(const std::string& name) const {
    if (name == ".") return stack_.back();
    std::vector<std::string> parts;
    size_t start = 0;
    while (true) {
      size_t dot = name.find('.', start);
      parts.push_back(name.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    const Json* found = nullptr;
    for (auto it = stack_.rbegin(); it != stack_.rend(); ++it) {
      if ((*it)->is_object() && (*it)->contains(parts[0])) {
        found = &(**it)[parts[0]];
        break;
      }
    }
    for (size_t i = 1; found != nullptr && i < parts.size(); ++i) {
      if (!found->is_object() || !found->contains(parts[i])) return nullptr;
      found = &(*found)[parts[i]];
    }
    return found;
  }

  void renderSection(const Node& n, std::string& out) {
    const Json* v = lookup(n.value);
    if (v == nullptr && n.value == "asJson") {
      const Json* target = lookup(trim(n.body));
      out += target == nullptr ? "null" : asJsonText(*target);
      return;
    }
    if (isFalsy(v)) return;
    if (v->is_array()) {
      for (const Json& item : *v) {
        stack_.push_back(&item);
        render(n.children, out);
        stack_.pop_back();
      }
      return;
    }
    stack_.push_back(v);
    render(n.children, out);
    stack_.pop_back();
  }

  std::vector<const Json*> stack_;
};

// "line 3, column 14 near `"cpus": ,\n  "me`" for a parse error at byte offset `byte`.
std::string locate(const std::string& text, size_t byte) {
  size_t offset = byte == 0 ? 0 : std::min(byte - 1, text.size());
  int line = 1;
  size_t lineStart = 0;
  for (size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      lineStart = i + 1;
    }
  }
  size_t from = offset > 30 ? offset - 30 : 0;
  std::string snippet = text.substr(from, std::min<size_t>(60, text.size() - from));
  return "line " + std::to_string(line) + ", column " + std::to_string(offset - lineStart + 1) +
         " near `" + snippet + "`";
}

}  // namespace

Result<std::string> renderMustache(const std::string& tmpl, const Json& scope) {
  auto nodes = Parser(tmpl).parse();
  if (!nodes.ok()) return std::move(nodes).error();
  std::string out;
  Renderer(scope).render(*nodes, out);
  return out;
}

Result<Json> renderMarathonTemplate(const std::string& tmpl, const Json& options,
                                    const Json& resource) {
  Json scope = options.is_null() ? Json::object() : options;
  if (!resource.is_null()) scope = deepMerge(std::move(scope), Json{{"resource", resource}});
  auto rendered = renderMustache(tmpl, scope);
  if (!rendered.ok()) return std::move(rendered).error();
  const std::string prefix = "rendered template is not a JSON object: ";
  Json parsed;
  try {
    parsed = Json::parse(*rendered);
  } catch (const Json::parse_error& e) {
    std::string what = e.what();
    if (auto pos = what.find("] "); pos != std::string::npos) what = what.substr(pos + 2);
    if (auto pos = what.find(": "); pos != std::string::npos) what = what.substr(pos + 2);
    return renderError(prefix + what + " at " + locate(*rendered, e.byte));
  }
  if (!parsed.is_object()) return renderError(prefix + "it is a JSON " + parsed.type_name());
  return parsed;
}

}  // namespace dcos::universe
