#pragma once
// What a reference string names: an http(s) URL, a gs:// object or a local file, with the
// normalised identity used for de-duplication and the cache, and the form safe to print (no
// query string: signed URLs carry their signatures there).

#include <string>
#include <string_view>

#include "util/status.hpp"

namespace assetgen::refs {

// An absolute http or https URL, parsed strictly enough that the URL handed to libcurl is
// rebuilt from these parts: libcurl connects to exactly the host that was checked.
struct Url {
    std::string scheme;       // "http" or "https"
    std::string host;         // lower-case, no trailing dot; an IPv6 literal without brackets
    bool ip_literal = false;  // host is a numeric IPv4 or IPv6 address
    int port = 0;             // the effective port (80 or 443 when none was written)
    std::string path = "/";   // starts with '/', as written (still percent-encoded)
    std::string query;        // after '?', "" if none
    bool has_query = false;

    // "host" or "[v6]" as it appears in a URL.
    std::string url_host() const;
    // scheme://host[:port]/path?query with scheme and host lower-cased, the default port and
    // the fragment removed: the form that is fetched and compared.
    std::string normalised() const;
    // normalised() without the query: the form shown in messages and logs.
    std::string display() const;
};

// Parses an absolute http(s) URL. INVALID_INPUT (message without the query) for another
// scheme, user:password@ in the authority, an empty or malformed host, a numeric host that is
// not a plain dotted IPv4 address (e.g. "2130706433", "0x7f.1"), a bad port, or spaces and
// control characters.
util::Result<Url> parse_url(std::string_view text);

// The URL a redirect's Location header points to, relative to the URL that answered
// (absolute, scheme-relative "//host/p", absolute-path "/p", relative "p", query-only "?q").
// INVALID_INPUT when the result is not an http(s) URL parse_url accepts.
util::Result<Url> resolve_location(const Url& base, std::string_view location);

enum class RefKind { http, gcs, local };

struct RefLocation {
    RefKind kind = RefKind::local;
    std::string fetch;    // http: Url::normalised(); gcs: the gs:// URL; local: the path to read
    std::string key;      // identity for de-duplication and the cache
    std::string display;  // for messages: http without query; gs:// and paths as typed
};

// Classifies one ref as typed. Local paths are relative to base_dir (the batch file's folder,
// a local folder or a gs:// prefix; "" = the working directory); absolute paths are allowed.
// INVALID_INPUT for file:// and any scheme other than http, https and gs, a gs:// URL
// without an object, or a malformed URL.
util::Result<RefLocation> parse_ref(std::string_view ref, const std::string& base_dir);

// Checks a ref's form without fetching it, for input validation; INVALID_INPUT as parse_ref.
util::Status check_ref(std::string_view ref);

// The ref with anything from the first '?' or '#' removed (safe to print whatever it is).
std::string without_query(std::string_view ref);

}  // namespace assetgen::refs
