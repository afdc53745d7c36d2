#pragma once
// One GET of a reference URL under the address guard: the host is resolved here, every
// address is checked, the transfer is pinned to the checked addresses (no DNS rebinding), and
// redirects are followed here, one hop at a time, each hop checked the same way. When the
// environment routes requests through a proxy (https_proxy, ...), the proxy connects on our
// behalf: the checks still apply to the names as we resolve them, but the pin cannot bind it.

#include <chrono>
#include <cstddef>
#include <string>

#include "net/http.hpp"
#include "refs/address_guard.hpp"
#include "refs/ref_location.hpp"
#include "util/status.hpp"

namespace assetgen::refs {

struct GuardedGetOptions {
    std::chrono::milliseconds timeout{10'000};  // per hop, connection included
    std::size_t max_bytes = 20u << 20;          // body limit; Content-Length checked up front
    bool allow_private = false;                 // skip the address checks (not the pinning)
    int max_redirects = 5;
    net::Headers headers;  // extra request headers (conditional ones)
};

// GETs url and follows up to max_redirects redirects (301, 302, 303, 307, 308) to http(s)
// URLs. Returns the final answer when it is 200, or 304 (only meaningful when headers carried
// a validator). Failures, with messages that follow the quoted URL and hold no query string:
//   PERMISSION_DENIED  a refused host or address, on the first hop or a redirect (final)
//   INVALID_INPUT      a body over max_bytes, a malformed or non-http(s) redirect, too many
//                      redirects (final)
//   NOT_FOUND          DNS has no such name, or HTTP 404/410 (final)
//   MODEL_RATE_LIMIT, MODEL_UNAVAILABLE, TIMEOUT, BAD_RESPONSE  429, 5xx, 408, connection
//                      errors, timeouts, truncated bodies (transient: worth a retry)
//   other 4xx → PERMISSION_DENIED (401/403) or INVALID_INPUT, with http_status() set (final)
util::Result<net::HttpResponse> guarded_get(net::HttpTransport& transport, Resolver& resolver,
                                            const Url& url, const GuardedGetOptions& options);

// "20 MiB", "512 KiB", "300 bytes": sizes in messages.
std::string format_bytes(std::size_t bytes);

}  // namespace assetgen::refs
