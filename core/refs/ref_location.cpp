// How this works: a URL is split by hand into scheme, authority, path and query, and the
// authority is held to a strict subset (no user info, a host of letters, digits, '-', '_' and
// '.', or a bracketed IPv6 literal, or a plain dotted IPv4 address). The URL that is fetched
// is rebuilt from the parts, so libcurl can never read a different host out of it than the
// one the address guard checked. Error messages are fragments meant to follow the quoted ref
// ("<where>: refs: \"<ref>\" <message>"), and never contain a query string.

#include "refs/ref_location.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <vector>

#include "storage/storage.hpp"
#include "util/text.hpp"

namespace assetgen::refs {
namespace {

using util::Code;

util::Status invalid(std::string message) {
    return util::error(Code::invalid_input, std::move(message));
}

// Length of a leading "scheme:" (RFC 3986: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )), 0 if none.
std::size_t scheme_length(std::string_view s) {
    if (s.empty() || std::isalpha(static_cast<unsigned char>(s[0])) == 0) {
        return 0;
    }
    for (std::size_t i = 1; i < s.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (c == ':') {
            return i;
        }
        if (std::isalnum(c) == 0 && c != '+' && c != '-' && c != '.') {
            return 0;
        }
    }
    return 0;
}

bool has_space_or_control(std::string_view s) {
    return std::any_of(s.begin(), s.end(), [](char ch) {
        auto c = static_cast<unsigned char>(ch);
        return c <= 0x20 || c == 0x7f || c == '\\';
    });
}

bool all_digits(std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Validates a host name (already lower-case, trailing dots removed).
util::Status check_host_name(const std::string& host, bool& ip_literal) {
    if (host.empty()) {
        return invalid("has no host");
    }
    for (char c : host) {
        bool ok =
            (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
        if (!ok) {
            return invalid(
                "has a host with characters other than letters, digits, '-', '_' and '.'");
        }
    }
    if (host.front() == '.' || host.find("..") != std::string::npos) {
        return invalid("has an empty label in its host");
    }
    // A numeric last label makes the whole host an IPv4 address in WHATWG and libcurl parsing,
    // which also accept forms like "127.1", "2130706433" or "0x7f.0.0.1". Only the plain dotted
    // form is accepted, so that everyone reads the same address.
    std::string_view last = std::string_view(host).substr(host.rfind('.') + 1);
    if (all_digits(last) || util::starts_with(last, "0x")) {
        unsigned char buf[4];
        if (::inet_pton(AF_INET, host.c_str(), buf) != 1) {
            return invalid("has a numeric host that is not a dotted IPv4 address");
        }
        ip_literal = true;
    }
    return util::ok_status();
}

std::string remove_dot_segments(std::string_view path) {
    std::vector<std::string> out;
    std::size_t start = 1;  // path starts with '/'
    while (start <= path.size()) {
        std::size_t slash = path.find('/', start);
        std::string_view seg = path.substr(
            start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
        bool last = slash == std::string_view::npos;
        if (seg == "..") {
            if (!out.empty()) {
                out.pop_back();
            }
            if (last) {
                out.emplace_back();
            }
        } else if (seg == ".") {
            if (last) {
                out.emplace_back();
            }
        } else {
            out.emplace_back(seg);
        }
        if (last) {
            break;
        }
        start = slash + 1;
    }
    std::string result;
    for (const auto& seg : out) {
        result += "/" + seg;
    }
    return result.empty() ? "/" : result;
}

}  // namespace

std::string Url::url_host() const {
    return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

std::string Url::display() const {
    int default_port = scheme == "https" ? 443 : 80;
    std::string out = scheme + "://" + url_host();
    if (port != default_port) {
        out += ":" + std::to_string(port);
    }
    return out + path;
}

std::string Url::normalised() const {
    return has_query ? display() + "?" + query : display();
}

util::Result<Url> parse_url(std::string_view text) {
    text = util::trim(text);
    if (has_space_or_control(text)) {
        return invalid("contains a space, backslash or control character");
    }
    std::size_t colon = scheme_length(text);
    if (colon == 0) {
        return invalid("is not an absolute URL");
    }
    Url url;
    url.scheme = util::to_lower(text.substr(0, colon));
    if (url.scheme != "http" && url.scheme != "https") {
        return invalid("has an unsupported scheme \"" + url.scheme + "\"");
    }
    if (text.substr(colon, 3) != "://") {
        return invalid("is not an absolute URL");
    }
    std::string_view rest = text.substr(colon + 3);
    rest = rest.substr(0, rest.find('#'));
    std::size_t authority_end = std::min(rest.find_first_of("/?"), rest.size());
    std::string_view authority = rest.substr(0, authority_end);
    std::string_view tail = rest.substr(authority_end);
    if (authority.find('@') != std::string_view::npos) {
        return invalid("has a user name or password in the URL");
    }

    std::string_view port_text;
    if (util::starts_with(authority, "[")) {
        std::size_t close = authority.find(']');
        if (close == std::string_view::npos) {
            return invalid("has an unclosed IPv6 address");
        }
        url.host = util::to_lower(authority.substr(1, close - 1));
        unsigned char buf[16];
        if (::inet_pton(AF_INET6, url.host.c_str(), buf) != 1) {
            return invalid("has an invalid IPv6 address");
        }
        url.ip_literal = true;
        std::string_view after = authority.substr(close + 1);
        if (!after.empty() && after.front() != ':') {
            return invalid("has text after its IPv6 address");
        }
        port_text = after.empty() ? after : after.substr(1);
    } else {
        std::size_t c = authority.find(':');
        url.host = util::to_lower(authority.substr(0, c));
        port_text = c == std::string_view::npos ? std::string_view() : authority.substr(c + 1);
        while (!url.host.empty() && url.host.back() == '.') {
            url.host.pop_back();
        }
        TRY(check_host_name(url.host, url.ip_literal));
    }
    url.port = url.scheme == "https" ? 443 : 80;
    if (!port_text.empty()) {
        if (!all_digits(port_text) || port_text.size() > 5 ||
            std::stoi(std::string(port_text)) == 0 || std::stoi(std::string(port_text)) > 65535) {
            return invalid("has an invalid port");
        }
        url.port = std::stoi(std::string(port_text));
    }

    std::size_t q = tail.find('?');
    url.path = std::string(tail.substr(0, q));
    if (url.path.empty()) {
        url.path = "/";
    }
    if (q != std::string_view::npos) {
        url.has_query = true;
        url.query = std::string(tail.substr(q + 1));
    }
    return url;
}

util::Result<Url> resolve_location(const Url& base, std::string_view location) {
    location = util::trim(location);
    if (location.empty()) {
        return invalid("redirects without a Location");
    }
    location = location.substr(0, location.find('#'));
    if (scheme_length(location) != 0) {
        return parse_url(location);
    }
    if (util::starts_with(location, "//")) {
        return parse_url(base.scheme + ":" + std::string(location));
    }
    Url origin = base;
    origin.path = "/";
    origin.has_query = false;
    origin.query.clear();
    std::string origin_text = origin.display();
    origin_text.pop_back();  // the "/" path
    std::string target;
    if (util::starts_with(location, "/")) {
        target = std::string(location);
    } else if (util::starts_with(location, "?")) {
        target = base.path + std::string(location);
    } else {
        target = base.path.substr(0, base.path.rfind('/') + 1) + std::string(location);
    }
    std::size_t q = target.find('?');
    std::string path = remove_dot_segments(std::string_view(target).substr(0, q));
    std::string query = q == std::string::npos ? "" : target.substr(q);
    return parse_url(origin_text + path + query);
}

util::Result<RefLocation> parse_ref(std::string_view ref, const std::string& base_dir) {
    std::string_view text = util::trim(ref);
    if (text.empty()) {
        return invalid("is empty");
    }
    RefLocation loc;
    std::size_t colon = scheme_length(text);
    if (colon != 0) {
        std::string scheme = util::to_lower(text.substr(0, colon));
        if (scheme == "http" || scheme == "https") {
            TRY_ASSIGN(Url url, parse_url(text));
            loc.kind = RefKind::http;
            loc.fetch = url.normalised();
            loc.key = loc.fetch;
            loc.display = url.display();
            return loc;
        }
        if (scheme == "gs") {
            std::string_view rest = text.substr(colon + 1);
            if (!util::starts_with(rest, "//")) {
                return invalid("is not a gs://bucket/object URL");
            }
            rest.remove_prefix(2);
            std::size_t slash = rest.find('/');
            if (slash == 0 || slash == std::string_view::npos || slash + 1 == rest.size()) {
                return invalid("names no object (expected gs://bucket/object)");
            }
            loc.kind = RefKind::gcs;
            loc.fetch = "gs://" + std::string(rest);
            loc.key = loc.fetch;
            loc.display = without_query(loc.fetch);
            return loc;
        }
        return invalid("has an unsupported scheme \"" + scheme +
                       "\" (use https://, http://, gs:// or a local path)");
    }
    loc.display = std::string(text);
    if (storage::is_gcs(base_dir) && !util::starts_with(text, "/")) {
        loc.kind = RefKind::gcs;
        loc.fetch = storage::join(base_dir, text);
        loc.key = loc.fetch;
        return loc;
    }
    namespace fs = std::filesystem;
    fs::path path(text);
    if (path.is_relative() && !base_dir.empty()) {
        path = fs::path(base_dir) / path;
    }
    path = path.lexically_normal();
    std::error_code ec;
    fs::path absolute = fs::absolute(path, ec);
    loc.kind = RefKind::local;
    loc.fetch = path.string();
    loc.key = "file:" + (ec ? path : absolute.lexically_normal()).string();
    return loc;
}

util::Status check_ref(std::string_view ref) {
    auto parsed = parse_ref(ref, "");
    return parsed.ok() ? util::ok_status() : parsed.status();
}

std::string without_query(std::string_view ref) {
    return std::string(ref.substr(0, ref.find_first_of("?#")));
}

}  // namespace assetgen::refs
