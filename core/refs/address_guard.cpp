#include "refs/address_guard.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>

#include "util/text.hpp"

namespace assetgen::refs {
namespace {

using V4 = std::array<std::uint8_t, 4>;
using V6 = std::array<std::uint8_t, 16>;

AddressClass classify_v4(const V4& a) {
    if (a[0] == 0) {
        return AddressClass::unspecified;
    }
    if (a[0] == 10 || (a[0] == 172 && (a[1] & 0xf0) == 16) || (a[0] == 192 && a[1] == 168)) {
        return AddressClass::private_network;
    }
    if (a[0] == 100 && (a[1] & 0xc0) == 64) {
        return AddressClass::shared_cgnat;
    }
    if (a[0] == 127) {
        return AddressClass::loopback;
    }
    if (a[0] == 169 && a[1] == 254) {
        return AddressClass::link_local;
    }
    if ((a[0] & 0xf0) == 224) {
        return AddressClass::multicast;
    }
    if ((a[0] & 0xf0) == 240) {
        return AddressClass::reserved;  // includes 255.255.255.255, the broadcast address
    }
    return AddressClass::public_address;
}

bool all_zero(const V6& a, std::size_t from, std::size_t to) {
    return std::all_of(a.begin() + static_cast<std::ptrdiff_t>(from),
                       a.begin() + static_cast<std::ptrdiff_t>(to),
                       [](std::uint8_t b) { return b == 0; });
}

V4 v4_at(const V6& a, std::size_t offset) {
    return {a[offset], a[offset + 1], a[offset + 2], a[offset + 3]};
}

AddressClass classify_v6(const V6& a) {
    if (all_zero(a, 0, 16)) {
        return AddressClass::unspecified;
    }
    if (all_zero(a, 0, 15) && a[15] == 1) {
        return AddressClass::loopback;
    }
    // ::ffff:a.b.c.d (mapped), ::ffff:0:a.b.c.d (translated), ::a.b.c.d (compatible): the
    // kernel or a translator delivers these to the IPv4 address inside.
    if (all_zero(a, 0, 10) && a[10] == 0xff && a[11] == 0xff) {
        return classify_v4(v4_at(a, 12));
    }
    if (all_zero(a, 0, 8) && a[8] == 0xff && a[9] == 0xff && a[10] == 0 && a[11] == 0) {
        return classify_v4(v4_at(a, 12));
    }
    if (all_zero(a, 0, 12)) {
        return classify_v4(v4_at(a, 12));
    }
    // NAT64 well-known prefix 64:ff9b::/96; the local-use 64:ff9b:1::/48 is private by itself.
    if (a[0] == 0x00 && a[1] == 0x64 && a[2] == 0xff && a[3] == 0x9b) {
        if (all_zero(a, 4, 12)) {
            return classify_v4(v4_at(a, 12));
        }
        if (a[4] == 0 && a[5] == 1) {
            return AddressClass::private_network;
        }
    }
    if (a[0] == 0x20 && a[1] == 0x02) {  // 6to4: 2002:AABB:CCDD::/48 carries A.B.C.D
        return classify_v4(v4_at(a, 2));
    }
    if ((a[0] & 0xfe) == 0xfc) {
        return AddressClass::private_network;
    }
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) {
        return AddressClass::link_local;
    }
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0) {
        return AddressClass::private_network;  // deprecated site-local fec0::/10
    }
    if (a[0] == 0xff) {
        return AddressClass::multicast;
    }
    return AddressClass::public_address;
}

}  // namespace

AddressClass classify_address(std::string_view address) {
    std::string text(util::trim(address));
    if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
        text = text.substr(1, text.size() - 2);
    }
    if (auto zone = text.find('%'); zone != std::string::npos) {
        text.resize(zone);
    }
    V4 v4{};
    if (::inet_pton(AF_INET, text.c_str(), v4.data()) == 1) {
        return classify_v4(v4);
    }
    V6 v6{};
    if (::inet_pton(AF_INET6, text.c_str(), v6.data()) == 1) {
        return classify_v6(v6);
    }
    return AddressClass::invalid;
}

std::string_view address_class_name(AddressClass c) {
    switch (c) {
        case AddressClass::public_address:
            return "public";
        case AddressClass::loopback:
            return "loopback";
        case AddressClass::private_network:
            return "private";
        case AddressClass::link_local:
            return "link-local";
        case AddressClass::unspecified:
            return "unspecified";
        case AddressClass::shared_cgnat:
            return "shared (CGNAT)";
        case AddressClass::multicast:
            return "multicast";
        case AddressClass::reserved:
            return "reserved or broadcast";
        case AddressClass::invalid:
            break;
    }
    return "invalid";
}

bool is_refused(AddressClass c) {
    return c != AddressClass::public_address;
}

bool is_refused_host_name(std::string_view host) {
    std::string name = util::to_lower(util::trim(host));
    while (!name.empty() && name.back() == '.') {
        name.pop_back();
    }
    return name == "metadata.google.internal" || name == "metadata";
}

util::Result<std::vector<std::string>> SystemResolver::resolve(const std::string& host) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &found);
    if (rc != 0) {
        const std::string what = "cannot resolve \"" + host + "\": " + ::gai_strerror(rc);
        if (rc == EAI_NONAME || rc == EAI_NODATA) {
            return util::error(util::Code::not_found, what);
        }
        return util::error(util::Code::unavailable, what);
    }
    std::unique_ptr<addrinfo, void (*)(addrinfo*)> owner(found, ::freeaddrinfo);
    std::vector<std::string> out;
    for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
        char text[INET6_ADDRSTRLEN] = {};
        const void* raw = nullptr;
        if (ai->ai_family == AF_INET) {
            raw = &reinterpret_cast<const sockaddr_in*>(ai->ai_addr)->sin_addr;
        } else if (ai->ai_family == AF_INET6) {
            raw = &reinterpret_cast<const sockaddr_in6*>(ai->ai_addr)->sin6_addr;
        } else {
            continue;
        }
        if (::inet_ntop(ai->ai_family, raw, text, sizeof text) == nullptr) {
            continue;
        }
        if (std::find(out.begin(), out.end(), text) == out.end()) {
            out.emplace_back(text);
        }
    }
    if (out.empty()) {
        return util::error(util::Code::not_found, "cannot resolve \"" + host + "\": no address");
    }
    return out;
}

void FixedResolver::set(const std::string& host, std::vector<std::string> addresses) {
    m_table[util::to_lower(host)] = std::move(addresses);
}

util::Result<std::vector<std::string>> FixedResolver::resolve(const std::string& host) {
    for (const auto& [name, addresses] : m_table) {
        if (util::to_lower(name) == util::to_lower(host)) {
            return addresses;
        }
    }
    return util::error(util::Code::not_found, "cannot resolve \"" + host + "\": unknown name");
}

}  // namespace assetgen::refs
