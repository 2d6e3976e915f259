#include "common/flags.hpp"

#include "common/json.hpp"

#include <boost/program_options.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <sstream>

namespace dcos::flags {
namespace po = boost::program_options;

namespace {

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

// "--log-level=debug" -> "--log_level=debug": hyphens and underscores in flag names are the same.
std::string normalizeArg(const std::string& arg) {
  if (arg.rfind("--", 0) != 0) return arg;
  size_t eq = arg.find('=');
  std::string name = arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
  std::replace(name.begin(), name.end(), '-', '_');
  return "--" + name + (eq == std::string::npos ? "" : arg.substr(eq));
}

std::string envName(const std::string& flag) {
  std::string out = "DCOS_";
  for (char c : flag) out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

const char* typeWord(Type t) {
  switch (t) {
    case Type::kInt: return "INT";
    case Type::kBool: return "BOOL";
    case Type::kDuration: return "DURATION";
    case Type::kString: break;
  }
  return "VALUE";
}

Result<bool> parseBool(const std::string& v) {
  std::string t = v;
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::tolower(c); });
  if (t == "true" || t == "1" || t == "yes" || t == "on") return true;
  if (t == "false" || t == "0" || t == "no" || t == "off") return false;
  return Error(ErrorCode::kInvalidArgument, "expected true or false");
}

Result<int64_t> parseInt(const std::string& v) {
  if (v.empty()) return Error(ErrorCode::kInvalidArgument, "expected an integer");
  size_t pos = 0;
  try {
    long long n = std::stoll(v, &pos, 10);
    if (pos != v.size()) return Error(ErrorCode::kInvalidArgument, "expected an integer");
    return static_cast<int64_t>(n);
  } catch (const std::exception&) {
    return Error(ErrorCode::kInvalidArgument, "expected an integer");
  }
}

}  // namespace

Result<Duration> parseDuration(const std::string& text) {
  std::string t = trim(text);
  size_t i = 0;
  while (i < t.size() && (std::isdigit(static_cast<unsigned char>(t[i])) || t[i] == '.')) ++i;
  if (i == 0) return Error(ErrorCode::kInvalidArgument, "expected a duration such as 10secs or 500ms");
  double n = 0;
  try {
    n = std::stod(t.substr(0, i));
  } catch (const std::exception&) {
    return Error(ErrorCode::kInvalidArgument, "expected a duration such as 10secs or 500ms");
  }
  std::string unit = t.substr(i);
  static const std::pair<const char*, double> units[] = {
      {"", 1e9},        {"ns", 1},        {"us", 1e3},      {"ms", 1e6},     {"s", 1e9},
      {"sec", 1e9},     {"secs", 1e9},    {"m", 60e9},      {"min", 60e9},   {"mins", 60e9},
      {"h", 3600e9},    {"hr", 3600e9},   {"hrs", 3600e9},  {"d", 86400e9},  {"day", 86400e9},
      {"days", 86400e9}, {"w", 604800e9}, {"weeks", 604800e9}};
  for (const auto& [name, factor] : units) {
    if (unit == name) {
      double nanos = n * factor;
      if (!std::isfinite(nanos) || nanos > 9.2e18) {
        return Error(ErrorCode::kInvalidArgument, "duration too large");
      }
      return Duration(static_cast<int64_t>(nanos));
    }
  }
  return Error(ErrorCode::kInvalidArgument, "unknown duration unit '" + unit + "' (use ms, secs, mins, hrs, days)");
}

std::string formatDuration(Duration d) {
  auto ns = d.count();
  if (ns % 86400'000'000'000LL == 0 && ns != 0) return std::to_string(ns / 86400'000'000'000LL) + "days";
  if (ns % 3600'000'000'000LL == 0 && ns != 0) return std::to_string(ns / 3600'000'000'000LL) + "hrs";
  if (ns % 60'000'000'000LL == 0 && ns != 0) return std::to_string(ns / 60'000'000'000LL) + "mins";
  if (ns % 1'000'000'000LL == 0) return std::to_string(ns / 1'000'000'000LL) + "secs";
  if (ns % 1'000'000LL == 0) return std::to_string(ns / 1'000'000LL) + "ms";
  return std::to_string(ns) + "ns";
}

FlagSet& FlagSet::add(Spec spec) {
  specs_.push_back(std::move(spec));
  return *this;
}

const Spec* FlagSet::find(const std::string& name) const {
  for (const auto& s : specs_) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

Result<void> FlagSet::set(const std::string& name, const std::string& value, Source source,
                          const std::string& origin) {
  const Spec* spec = find(name);
  auto bad = [&](const std::string& why) {
    return Error(ErrorCode::kInvalidArgument,
                 "invalid value '" + value + "' for --" + name + origin + ": " + why);
  };
  if (!spec) return Error(ErrorCode::kInvalidArgument, "unknown flag '--" + name + "'" + origin);
  switch (spec->type) {
    case Type::kInt: {
      auto n = parseInt(value);
      if (!n) return bad(n.error().message);
      if (*n < spec->min || *n > spec->max) {
        return bad("expected an integer between " + std::to_string(spec->min) + " and " +
                   std::to_string(spec->max));
      }
      break;
    }
    case Type::kBool: {
      auto b = parseBool(value);
      if (!b) return bad(b.error().message);
      break;
    }
    case Type::kDuration: {
      auto d = parseDuration(value);
      if (!d) return bad(d.error().message);
      if (d->count() < 0) return bad("must not be negative");
      break;
    }
    case Type::kString:
      if (!spec->choices.empty() &&
          std::find(spec->choices.begin(), spec->choices.end(), value) == spec->choices.end()) {
        std::string all;
        for (const auto& c : spec->choices) all += (all.empty() ? "" : ", ") + c;
        return bad("expected one of " + all);
      }
      break;
  }
  if (spec->validate) {
    if (std::string why = spec->validate(value); !why.empty()) return bad(why);
  }
  auto it = sources_.find(name);
  if (it != sources_.end() && it->second > source) return success();  // higher precedence wins
  values_[name] = value;
  sources_[name] = source;
  return success();
}

Result<void> FlagSet::parse(const std::vector<std::string>& args, const std::vector<std::string>& env) {
  po::options_description desc;
  desc.add_options()("help,h", "");
  for (const auto& s : specs_) {
    if (s.type == Type::kBool) {
      desc.add_options()(s.name.c_str(), po::value<std::string>()->implicit_value("true"), "");
    } else {
      desc.add_options()(s.name.c_str(), po::value<std::string>(), "");
    }
  }
  std::vector<std::string> normalized;
  for (const auto& a : args) normalized.push_back(normalizeArg(a));

  po::parsed_options parsed(&desc);
  try {
    int style = po::command_line_style::unix_style & ~po::command_line_style::allow_guessing;
    parsed = po::command_line_parser(normalized).options(desc).style(style).run();
  } catch (const po::error& e) {
    std::string what = e.what();
    if (auto* u = dynamic_cast<const po::unknown_option*>(&e)) {
      what = "unknown flag '" + u->get_option_name() + "'";
    }
    return Error(ErrorCode::kInvalidArgument, what);
  }
  // 1. command line
  for (const auto& opt : parsed.options) {
    if (opt.position_key >= 0 || opt.string_key.empty()) {
      std::string arg = opt.value.empty() ? "" : opt.value.front();
      return Error(ErrorCode::kInvalidArgument, "unexpected argument '" + arg + "'");
    }
    if (opt.string_key == "help") {
      helpRequested_ = true;
      continue;
    }
    // A bare boolean flag ("--verbose") arrives without a value: it means true.
    const Spec* spec = find(opt.string_key);
    std::string value;
    if (opt.value.size() == 1) {
      value = opt.value.front();
    } else if (opt.value.empty() && spec && spec->type == Type::kBool) {
      value = "true";
    } else {
      return Error(ErrorCode::kInvalidArgument, "flag '--" + opt.string_key + "' needs a value");
    }
    if (auto r = set(opt.string_key, value, Source::kCommandLine, ""); !r) return r;
  }
  if (helpRequested_) return success();

  // 2. environment: DCOS_<FLAG>; variables that name no flag are someone else's (DCOS_URL).
  std::map<std::string, std::string> envMap;
  for (const auto& kv : env) {
    auto eq = kv.find('=');
    if (eq != std::string::npos) envMap[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& s : specs_) {
    auto it = envMap.find(envName(s.name));
    if (it == envMap.end()) continue;
    if (auto r = set(s.name, it->second, Source::kEnvironment, " (from " + it->first + ")"); !r) return r;
  }

  // 3. config file
  if (find("config") && values_.count("config") && !values_["config"].empty()) {
    const std::string path = values_["config"];
    std::ifstream in(path);
    if (!in) return Error(ErrorCode::kInvalidArgument, "cannot read config file '" + path + "'");
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    std::string origin = " (from config file " + path + ")";
    if (trim(text).rfind('{', 0) == 0) {
      auto json = parseJson(text);
      if (!json || !json->is_object()) {
        return Error(ErrorCode::kInvalidArgument,
                     "config file '" + path + "' is not a JSON object" +
                         (json ? std::string() : ": " + json.error().message));
      }
      for (auto& [k, v] : json->items()) {
        std::string name = k;
        std::replace(name.begin(), name.end(), '-', '_');
        std::string value = v.is_string() ? v.get<std::string>() : v.dump();
        if (auto r = set(name, value, Source::kFile, origin); !r) return r;
      }
    } else {
      std::istringstream lines(text);
      std::string line;
      int lineNo = 0;
      while (std::getline(lines, line)) {
        ++lineNo;
        std::string t = trim(line);
        if (t.empty() || t[0] == '#') continue;
        auto eq = t.find('=');
        if (eq == std::string::npos) {
          return Error(ErrorCode::kInvalidArgument, "config file '" + path + "' line " +
                                                        std::to_string(lineNo) + ": expected name = value");
        }
        std::string name = trim(t.substr(0, eq));
        if (name.rfind("--", 0) == 0) name = name.substr(2);
        std::replace(name.begin(), name.end(), '-', '_');
        std::string value = trim(t.substr(eq + 1));
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
          value = value.substr(1, value.size() - 2);
        }
        if (auto r = set(name, value, Source::kFile, origin + " line " + std::to_string(lineNo)); !r) return r;
      }
    }
  }

  // 4. defaults, and required flags
  for (const auto& s : specs_) {
    if (values_.count(s.name)) continue;
    if (s.required) {
      return Error(ErrorCode::kInvalidArgument,
                   "missing required flag --" + s.name + " (or " + envName(s.name) + ")");
    }
    values_[s.name] = s.defaultValue;
    sources_[s.name] = Source::kDefault;
  }
  return success();
}

std::string FlagSet::getString(const std::string& name) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::string() : it->second;
}

int64_t FlagSet::getInt(const std::string& name) const {
  auto r = parseInt(getString(name));
  return r ? *r : 0;
}

bool FlagSet::getBool(const std::string& name) const {
  auto r = parseBool(getString(name));
  return r && *r;
}

Duration FlagSet::getDuration(const std::string& name) const {
  auto r = parseDuration(getString(name));
  return r ? *r : Duration(0);
}

Source FlagSet::source(const std::string& name) const {
  auto it = sources_.find(name);
  return it == sources_.end() ? Source::kDefault : it->second;
}

std::map<std::string, std::string> FlagSet::values() const { return values_; }

std::string FlagSet::help(const std::string& summary) const {
  std::ostringstream out;
  out << "Usage: " << command_ << " [flags]\n\n" << summary << "\n\nFlags (also DCOS_<FLAG> "
      << "environment variables, or name = value lines in --config FILE):\n";
  size_t width = 0;
  for (const auto& s : specs_) width = std::max(width, s.name.size() + std::string(typeWord(s.type)).size() + 3);
  for (const auto& s : specs_) {
    std::string left = "--" + s.name + "=" + typeWord(s.type);
    out << "  " << left << std::string(width - left.size() + 2, ' ') << s.help;
    if (s.required) {
      out << " (required)";
    } else if (!s.defaultValue.empty()) {
      out << " (default: " << s.defaultValue << ")";
    } else {
      out << " (default: none)";
    }
    if (!s.choices.empty()) {
      out << " [";
      for (size_t i = 0; i < s.choices.size(); ++i) out << (i ? "|" : "") << s.choices[i];
      out << "]";
    }
    out << "\n";
  }
  out << "  --help" << std::string(width > 4 ? width - 4 : 1, ' ') << "Show this help\n";
  return out.str();
}

}  // namespace dcos::flags
