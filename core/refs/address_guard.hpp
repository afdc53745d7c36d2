#pragma once
// The address guard: which IP addresses a reference fetch may connect to, and the name
// resolution seam (getaddrinfo in production, a fixed table in tests). A ref URL must not
// reach the machine itself, the private network, or the cloud metadata server unless the
// operator allows private refs.

#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/status.hpp"

namespace assetgen::refs {

enum class AddressClass {
    public_address,   // routable on the internet: allowed
    loopback,         // 127/8, ::1
    private_network,  // 10/8, 172.16/12, 192.168/16, fc00::/7, fec0::/10 (old site-local)
    link_local,       // 169.254/16 (the metadata server 169.254.169.254), fe80::/10
    unspecified,      // 0.0.0.0/8 ("this network"), ::
    shared_cgnat,     // 100.64/10
    multicast,        // 224/4, ff00::/8
    reserved,         // 240/4 and the broadcast address 255.255.255.255
    invalid,          // not a numeric IPv4 or IPv6 address
};

// Classifies a numeric address ("10.0.0.1", "::1", "[::1]", "fe80::1%eth0"). IPv6 forms that
// carry an IPv4 address (mapped ::ffff:a.b.c.d, compatible ::a.b.c.d, NAT64 64:ff9b::/96,
// 6to4 2002::/16) are classified by the IPv4 address inside. Never fails: invalid for junk.
AddressClass classify_address(std::string_view address);
// Human name of a class for messages: "loopback", "private", "link-local", ...
std::string_view address_class_name(AddressClass c);
// True for every class except public_address.
bool is_refused(AddressClass c);
// True for host names refused by name whatever they resolve to: the metadata server
// ("metadata.google.internal", "metadata", with or without a trailing dot, any case).
bool is_refused_host_name(std::string_view host);

// Turns a host name into numeric addresses.
class Resolver {
public:
    virtual ~Resolver() = default;
    // The numeric addresses (IPv4 dotted, IPv6 without brackets) of host. NOT_FOUND when the
    // name does not exist, MODEL_UNAVAILABLE when resolution failed for now (retry may help).
    virtual util::Result<std::vector<std::string>> resolve(const std::string& host) = 0;
};

// getaddrinfo(3), both address families, TCP. Thread-safe.
class SystemResolver final : public Resolver {
public:
    util::Result<std::vector<std::string>> resolve(const std::string& host) override;
};

// A fixed table of names to addresses, for tests. A name not in the table is NOT_FOUND.
class FixedResolver final : public Resolver {
public:
    FixedResolver() = default;
    // {{"img.test", {"127.0.0.1"}}, ...}
    FixedResolver(
        std::initializer_list<std::pair<const std::string, std::vector<std::string>>> table)
        : m_table(table) {}
    // Adds or replaces one name (compared case-insensitively).
    void set(const std::string& host, std::vector<std::string> addresses);
    util::Result<std::vector<std::string>> resolve(const std::string& host) override;

private:
    std::map<std::string, std::vector<std::string>> m_table;
};

}  // namespace assetgen::refs
