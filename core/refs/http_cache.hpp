#pragma once
// What an HTTP answer says about caching it (RFC 9111, as a private cache): whether it may be
// stored, until when it is fresh, and the validators to revalidate it with once stale.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "net/http.hpp"

namespace assetgen::refs {

struct Freshness {
    bool store = true;                // false for Cache-Control: no-store
    std::int64_t fresh_until_ms = 0;  // Unix ms; at or before now means stale (revalidate)
    std::string etag;                 // ETag, sent back as If-None-Match
    std::string last_modified;        // Last-Modified, sent back as If-Modified-Since
};

// Reads Cache-Control (no-store, no-cache, max-age; several headers combine), Age, Expires
// (relative to Date when present; an invalid date means already stale), ETag and
// Last-Modified of a 200 or 304 answer received at now_ms. Without explicit freshness the
// heuristic of RFC 9111 §4.2.2 applies: a tenth of the time since Last-Modified, at most a
// day; without Last-Modified either, the answer is stale at once. Never fails.
Freshness freshness_of(const net::HttpResponse& response, std::int64_t now_ms);

// Parses an HTTP date (IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", RFC 850 or asctime form)
// into Unix ms; std::nullopt when it is none of these.
std::optional<std::int64_t> parse_http_date(std::string_view text);

}  // namespace assetgen::refs
