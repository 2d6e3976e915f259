// Dispatch of `dcos <noun> <verb...>`: the command table, per-command flags and --help,
// `dcos help`, the bash completion script and the one-line errors with their exit codes.
#include "cli/cli.hpp"

#include "cli/context.hpp"

#include <algorithm>
#include <iostream>
#include <set>

namespace dcos::cli {
namespace {

struct Noun {
  const char* name;
  const char* summary;
};

const Noun kNouns[] = {
    {"cluster", "Manage the clusters this CLI talks to"},
    {"node", "Show the agents of the cluster"},
    {"service", "Show and shut down the frameworks (services) of the cluster"},
    {"task", "List tasks, print their logs and list their sandboxes"},
    {"marathon", "Deploy and manage apps, groups and deployments"},
    {"package", "Install and manage packages from the catalog and added repositories"},
    {"help", "Show the usage of a command: dcos help <command> [subcommand]"},
    {"completion", "Print a shell completion script: dcos completion bash"},
};

std::vector<Command> commandTable() {
  std::vector<Command> commands;
  addClusterCommands(commands);
  addNodeCommands(commands);
  addServiceCommands(commands);
  addTaskCommands(commands);
  addMarathonCommands(commands);
  addPackageCommands(commands);
  return commands;
}

std::string joinWords(const std::vector<std::string>& words, size_t count) {
  std::string out;
  for (size_t i = 0; i < count && i < words.size(); ++i) out += (i ? " " : "") + words[i];
  return out;
}

bool startsWith(const std::vector<std::string>& words, const std::vector<std::string>& prefix) {
  return prefix.size() <= words.size() && std::equal(prefix.begin(), prefix.end(), words.begin());
}

// The longest command whose path the words start with.
const Command* findCommand(const std::vector<Command>& commands, const std::vector<std::string>& words) {
  const Command* best = nullptr;
  for (const auto& c : commands) {
    if (startsWith(words, c.path) && (!best || c.path.size() > best->path.size())) best = &c;
  }
  return best;
}

// The words that may follow `prefix` (sorted, unique).
std::vector<std::string> nextWords(const std::vector<Command>& commands, const std::vector<std::string>& prefix) {
  std::set<std::string> out;
  for (const auto& c : commands) {
    if (c.path.size() > prefix.size() && startsWith(c.path, prefix)) out.insert(c.path[prefix.size()]);
  }
  return {out.begin(), out.end()};
}

std::string flagText(const std::string& flag) {
  return flag.back() == '=' ? "--" + flag.substr(0, flag.size() - 1) + "=VALUE" : "--" + flag;
}

void printCommandHelp(const Command& c, std::ostream& out) {
  out << "Usage: " << c.usage << "\n\n" << c.summary << "\n";
  out << "\nFlags:\n";
  for (const auto& f : c.flags) out << "  " << flagText(f) << "\n";
  out << "  --help\n";
}

// Help for a group of commands ("dcos marathon app"): each command's usage and summary.
void printGroupHelp(const std::vector<Command>& commands, const std::vector<std::string>& prefix, std::ostream& out) {
  out << "Usage: dcos " << joinWords(prefix, prefix.size()) << " <command> [arguments]\n\n";
  for (const auto& n : kNouns) {
    if (prefix.size() == 1 && prefix[0] == n.name) out << n.summary << "\n\n";
  }
  out << "Commands:\n";
  for (const auto& c : commands) {
    if (startsWith(c.path, prefix)) out << "  " << c.usage << "\n      " << c.summary << "\n";
  }
}

// Whatever is neither a command nor a group: a usage error naming what may come instead.
Error unknownCommand(const std::vector<Command>& commands, const std::vector<std::string>& words) {
  std::vector<std::string> prefix;
  while (prefix.size() < words.size()) {
    std::vector<std::string> longer = prefix;
    longer.push_back(words[prefix.size()]);
    if (nextWords(commands, longer).empty()) break;
    prefix = std::move(longer);
  }
  std::vector<std::string> valid = nextWords(commands, prefix);
  std::string list;
  for (const auto& v : valid) list += (list.empty() ? "" : ", ") + v;
  std::string group = "dcos " + joinWords(prefix, prefix.size());
  if (prefix.size() == words.size()) {
    return usageError("'" + group + "' needs a command: " + list + " (see dcos help " + joinWords(prefix, prefix.size()) + ")");
  }
  std::string where = prefix.empty() ? std::string() : " for '" + group + "'";
  return usageError("unknown command '" + words[prefix.size()] + "'" + where + "; valid: " + list);
}

int fail(const Error& error, std::ostream& err) {
  err << "dcos: " << error.message << std::endl;
  return exitCodeFor(error);
}

int runHelp(const std::vector<Command>& commands, const std::vector<std::string>& words, std::ostream& out,
            std::ostream& err) {
  if (const Command* c = findCommand(commands, words); c && c->path.size() == words.size()) {
    printCommandHelp(*c, out);
    return kExitOk;
  }
  if (!nextWords(commands, words).empty()) {
    printGroupHelp(commands, words, out);
    return kExitOk;
  }
  return fail(unknownCommand(commands, words), err);
}

void printCompletion(const std::vector<Command>& commands, std::ostream& out) {
  // case patterns: a whole command completes its flags, a group its next words.
  std::vector<std::pair<std::string, std::string>> cases;
  std::set<std::vector<std::string>> groups{{}};
  for (const auto& c : commands) {
    std::string flags = "--help";
    for (const auto& f : c.flags) flags += " --" + (f.back() == '=' ? f.substr(0, f.size() - 1) : f);
    std::string path = " " + joinWords(c.path, c.path.size());
    cases.emplace_back("\"" + path + "\"|\"" + path + " \"*", flags);
    for (size_t n = 1; n < c.path.size(); ++n) groups.insert({c.path.begin(), c.path.begin() + n});
  }
  std::sort(cases.begin(), cases.end(), [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  for (const auto& g : groups) {
    std::string words;
    for (const auto& w : nextWords(commands, g)) words += (words.empty() ? "" : " ") + w;
    if (g.empty()) words += " help completion";
    cases.emplace_back("\"" + (g.empty() ? std::string() : " " + joinWords(g, g.size())) + "\"", words);
  }
  out << "# bash completion for dcos: eval \"$(dcos completion bash)\"\n"
         "_dcos() {\n"
         "  local cur=\"${COMP_WORDS[COMP_CWORD]}\" path=\"\" words=\"\" i\n"
         "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
         "    [[ ${COMP_WORDS[i]} == -* ]] || path=\"$path ${COMP_WORDS[i]}\"\n"
         "  done\n"
         "  case \"$path\" in\n";
  for (const auto& [pattern, words] : cases) out << "    " << pattern << ") words=\"" << words << "\" ;;\n";
  out << "    \" help\"*) words=\"";
  for (const auto& n : kNouns) out << (n.name == kNouns[0].name ? "" : " ") << n.name;
  out << "\" ;;\n"
         "    \" completion\") words=\"bash\" ;;\n"
         "  esac\n"
         "  COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
         "}\n"
         "complete -F _dcos dcos\n";
}

bool helpRequested(const std::vector<std::string>& words) {
  for (const auto& w : words) {
    if (w == "--") return false;
    if (w == "--help" || w == "-h") return true;
  }
  return false;
}

}  // namespace

bool handles(const std::string& word) {
  for (const auto& n : kNouns) {
    if (word == n.name) return true;
  }
  return false;
}

int run(const Invocation& invocation) {
  const auto& args = invocation.args;
  std::vector<Command> commands = commandTable();
  if (args.empty()) return fail(usageError("no command given (see dcos --help)"), std::cerr);
  if (args[0] == "help") return runHelp(commands, {args.begin() + 1, args.end()}, std::cout, std::cerr);
  if (args[0] == "completion") {
    if (args.size() != 2 || args[1] != "bash") return fail(usageError("usage: dcos completion bash"), std::cerr);
    printCompletion(commands, std::cout);
    return kExitOk;
  }
  const Command* command = findCommand(commands, args);
  if (!command) {
    std::vector<std::string> words;
    for (const auto& a : args) {
      if (a == "--help" || a == "-h") return runHelp(commands, words, std::cout, std::cerr);
      words.push_back(a);
    }
    return fail(unknownCommand(commands, args), std::cerr);
  }
  std::vector<std::string> rest(args.begin() + static_cast<long>(command->path.size()), args.end());
  if (helpRequested(rest)) {
    printCommandHelp(*command, std::cout);
    return kExitOk;
  }
  auto parsed = parseArgs(rest, command->flags);
  if (!parsed) {
    return fail(usageError(parsed.error().message + " (usage: " + command->usage + ")"), std::cerr);
  }
  Context context(invocation.env, std::cout, std::cerr);
  auto result = command->run(context, *parsed);
  std::cout.flush();
  if (!result) return fail(result.error(), std::cerr);
  return kExitOk;
}

void printCommandSummary(std::ostream& out) {
  for (const auto& n : kNouns) {
    std::string name = n.name;
    out << "  " << name << std::string(name.size() < 12 ? 12 - name.size() : 1, ' ') << n.summary << "\n";
  }
}

}  // namespace dcos::cli
