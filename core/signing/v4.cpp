// How this works: v4_prepare follows Google's V4 algorithm step by step — resolve scheme,
// host and path (the precedence rules for hostname / client endpoint / emulator / universe
// domain are the ones the conformance vectors encode), canonicalise the headers (the host is
// signed without its port, as the vectors require), build the sorted, encoded query with the
// X-Goog-* parameters, join the canonical request, hash it, and frame the string-to-sign.
// Nothing here reads the clock or a key: the timestamp comes in, the signature comes from a
// Signer, so every step is a pure function that tests can compare byte for byte.

#include "signing/v4.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "util/hash.hpp"
#include "util/text.hpp"

namespace assetgen::signing {
namespace {

using util::Code;

constexpr std::string_view k_algorithm = "GOOG4-RSA-SHA256";

bool is_unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

// Trims spaces and tabs and collapses inner runs of them to one space.
std::string normalise_value(std::string_view value) {
    std::string out;
    bool pending_space = false;
    for (char c : value) {
        if (c == ' ' || c == '\t') {
            pending_space = !out.empty();
            continue;
        }
        if (pending_space) {
            out.push_back(' ');
            pending_space = false;
        }
        out.push_back(c);
    }
    return out;
}

struct Endpoint {
    std::string scheme;
    std::string host;  // with port, as it appears in the URL
};

// Splits "[scheme://]host[:port]" into an Endpoint, using fallback_scheme when none is given.
Endpoint parse_endpoint(std::string_view text, std::string_view fallback_scheme) {
    Endpoint e;
    auto sep = text.find("://");
    if (sep != std::string_view::npos) {
        e.scheme = util::to_lower(text.substr(0, sep));
        text.remove_prefix(sep + 3);
    } else {
        e.scheme = std::string(fallback_scheme);
    }
    while (!text.empty() && text.back() == '/') {
        text.remove_suffix(1);
    }
    e.host = std::string(text);
    return e;
}

// The host as signed: without a port ("localhost:8080" is signed as "localhost").
std::string host_without_port(std::string_view host) {
    if (!host.empty() && host.front() == '[') {  // IPv6 literal: "[::1]:8080"
        auto close = host.find(']');
        return std::string(
            host.substr(0, close == std::string_view::npos ? host.size() : close + 1));
    }
    auto colon = host.rfind(':');
    return std::string(colon == std::string_view::npos ? host : host.substr(0, colon));
}

util::Result<Endpoint> resolve_endpoint(const V4Options& o) {
    std::string scheme = o.scheme.empty() ? "https" : util::to_lower(o.scheme);
    Endpoint base;
    if (!o.hostname.empty()) {
        base = parse_endpoint(o.hostname, scheme);
    } else if (!o.client_endpoint.empty()) {
        base = parse_endpoint(o.client_endpoint, scheme);
    } else if (!o.emulator_host.empty()) {
        // Emulators speak plain HTTP unless told otherwise (as Google's Go client assumes).
        base = parse_endpoint(o.emulator_host, o.scheme.empty() ? "http" : scheme);
    } else {
        base.scheme = scheme;
        base.host = "storage." +
                    (o.universe_domain.empty() ? std::string("googleapis.com") : o.universe_domain);
    }
    switch (o.url_style) {
        case UrlStyle::path_style:
            break;
        case UrlStyle::virtual_hosted:
            base.host = o.bucket + "." + base.host;
            break;
        case UrlStyle::bucket_bound_hostname:
            if (o.bucket_bound_hostname.empty()) {
                return util::error(Code::invalid_input,
                                   "signed url: bucket-bound hostname style needs a hostname");
            }
            base = parse_endpoint(o.bucket_bound_hostname, scheme);
            break;
    }
    if (base.host.empty()) {
        return util::error(Code::invalid_input, "signed url: empty host");
    }
    return base;
}

}  // namespace

std::string uri_encode(std::string_view bytes, bool keep_slash) {
    static constexpr char k_hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(bytes.size());
    for (unsigned char c : bytes) {
        if (is_unreserved(c) || (keep_slash && c == '/')) {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(k_hex[c >> 4]);
            out.push_back(k_hex[c & 15]);
        }
    }
    return out;
}

std::string goog_date_time(std::int64_t unix_seconds) {
    using namespace std::chrono;
    sys_seconds t{seconds(unix_seconds)};
    auto day = floor<days>(t);
    year_month_day ymd{day};
    hh_mm_ss hms{t - day};
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d%02u%02uT%02d%02d%02dZ", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                  static_cast<int>(hms.seconds().count()));
    return buf;
}

std::pair<std::string, std::string> canonical_headers(const Pairs& headers, std::string_view host) {
    // Sorted by lower-cased name; a stable sort keeps duplicate names in the caller's order.
    Pairs lowered;
    bool has_host = false;
    for (const auto& [name, value] : headers) {
        lowered.emplace_back(util::to_lower(util::trim(name)), normalise_value(value));
        has_host = has_host || lowered.back().first == "host";
    }
    if (!has_host) {
        lowered.emplace_back("host", std::string(host));
    }
    std::stable_sort(lowered.begin(), lowered.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string block;
    std::string names;
    for (std::size_t i = 0; i < lowered.size(); ++i) {
        if (i > 0 && lowered[i].first == lowered[i - 1].first) {
            block.pop_back();  // the '\n'
            block += "," + lowered[i].second + "\n";
            continue;
        }
        block += lowered[i].first + ":" + lowered[i].second + "\n";
        names += (names.empty() ? "" : ";") + lowered[i].first;
    }
    return {block, names};
}

util::Result<V4Parts> v4_prepare(const V4Options& o, std::string_view client_email) {
    if (o.bucket.empty()) {
        return util::error(Code::invalid_input, "signed url: empty bucket name");
    }
    if (o.expiration_seconds < 1 || o.expiration_seconds > k_max_expiration_seconds) {
        return util::error(Code::invalid_input, "signed url: expiration \"" +
                                                    std::to_string(o.expiration_seconds) +
                                                    "s\" is outside 1s..7d");
    }
    if (o.method.empty()) {
        return util::error(Code::invalid_input, "signed url: empty method");
    }
    TRY_ASSIGN(Endpoint endpoint, resolve_endpoint(o));

    std::string path;
    if (o.url_style == UrlStyle::path_style) {
        path = "/" + uri_encode(o.bucket, true);
        if (!o.object.empty()) {
            path += "/" + uri_encode(o.object, true);
        }
    } else {
        path = "/" + uri_encode(o.object, true);
    }

    std::string date_time = goog_date_time(o.timestamp);
    std::string scope = date_time.substr(0, 8) + "/auto/storage/goog4_request";
    auto [header_block, signed_headers] =
        canonical_headers(o.headers, host_without_port(endpoint.host));

    Pairs query = {
        {"X-Goog-Algorithm", std::string(k_algorithm)},
        {"X-Goog-Credential", std::string(client_email) + "/" + scope},
        {"X-Goog-Date", date_time},
        {"X-Goog-Expires", std::to_string(o.expiration_seconds)},
        {"X-Goog-SignedHeaders", signed_headers},
    };
    query.insert(query.end(), o.query_parameters.begin(), o.query_parameters.end());
    for (auto& [name, value] : query) {
        name = uri_encode(name, false);
        value = uri_encode(value, false);
    }
    std::sort(query.begin(), query.end());
    std::string canonical_query;
    for (const auto& [name, value] : query) {
        canonical_query += (canonical_query.empty() ? "" : "&") + name + "=" + value;
    }

    // A signed x-goog-content-sha256 header binds the payload; otherwise it is unsigned.
    std::string payload = "UNSIGNED-PAYLOAD";
    for (const auto& [name, value] : o.headers) {
        if (util::to_lower(util::trim(name)) == "x-goog-content-sha256") {
            payload = normalise_value(value);
        }
    }

    V4Parts parts;
    parts.url_base = endpoint.scheme + "://" + endpoint.host + path;
    parts.canonical_query = canonical_query;
    parts.canonical_request = o.method + "\n" + path + "\n" + canonical_query + "\n" +
                              header_block + "\n" + signed_headers + "\n" + payload;
    parts.string_to_sign = std::string(k_algorithm) + "\n" + date_time + "\n" + scope + "\n" +
                           util::sha256_hex(parts.canonical_request);
    return parts;
}

std::string v4_assemble(const V4Parts& parts, std::string_view signature) {
    return parts.url_base + "?" + parts.canonical_query +
           "&X-Goog-Signature=" + util::to_hex(signature);
}

util::Result<std::string> v4_signed_url(const V4Options& options, Signer& signer) {
    TRY_ASSIGN(V4Parts parts, v4_prepare(options, signer.client_email()));
    TRY_ASSIGN(std::string signature, signer.sign(parts.string_to_sign));
    return v4_assemble(parts, signature);
}

}  // namespace assetgen::signing
