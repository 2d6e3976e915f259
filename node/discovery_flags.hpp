#pragma once
// Wiring of discovery into the modes: the master's --dns_* flags and the options they make, and
// the resolver hint `dcos agent --dns_setup` prints.

#include "common/flags.hpp"
#include "discovery/discovery.hpp"

#include <optional>
#include <string>

namespace dcos::node {

// --dns_port, --dns_domain, --dns_ttl, --dns_recurse, --dns_resolvers, --dns_timeout.
void addDiscoveryFlags(flags::FlagSet& f);

// Discovery's options from the flags; nullopt with --dns_port=off. `automatic` is set when the
// port was not asked for (--dns_port=auto), so failing to bind it is a warning, not an error.
// Blocking (resolves `hostname` and reads /etc/resolv.conf): call at start-up.
std::optional<discovery::DiscoveryOptions> discoveryOptions(const flags::FlagSet& f, const std::string& hostname,
                                                            bool& automatic);

// `dcos agent --dns_setup --master HOST:PORT`: asks the master where its DNS server listens and
// prints the resolv.conf line that sends this machine's lookups there. Returns the exit code.
int printDnsSetup(const std::string& master);

}  // namespace dcos::node
