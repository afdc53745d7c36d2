#pragma once
// The HTTP seam. HttpTransport is the interface everything above net uses; CurlTransport
// (curl_transport.hpp) is the one libcurl implementation, and tests may pass their own.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/status.hpp"

namespace assetgen::net {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse;

struct HttpRequest {
    std::string method = "GET";
    std::string url;
    Headers headers;
    std::string body;
    std::chrono::milliseconds connect_timeout{10'000};
    std::chrono::milliseconds timeout{120'000};  // whole request
    std::size_t max_response_bytes = 64u << 20;  // larger answers fail with BAD_RESPONSE
    // Pins host names to addresses for this request only, as CURLOPT_RESOLVE entries
    // "host:port:address[,address...]" (IPv6 addresses in brackets); the transfer connects to
    // these addresses instead of resolving the name, so a caller that checked the addresses
    // connects to exactly what it checked. Empty: normal name resolution.
    std::vector<std::string> resolve;
    // When set, a 2xx answer's body is handed to this callback piece by piece as it arrives,
    // with the answer's status and headers so far, and is not kept (nor capped by
    // max_response_bytes); a non-ok return stops the transfer and send() returns that status.
    // Other answers' bodies are kept as usual. A transport that cannot stream may ignore it
    // and return the body whole: callers accept both (a result file of gigabytes is read this
    // way without holding it).
    std::function<util::Status(const HttpResponse& head, std::string_view piece)> on_body;
    // When set and true, this transfer stops within about a second and send() returns
    // CANCELLED (a model request abandoned after a signal's --grace). Must outlive the call.
    // Per request, so one shared transport serves requests that may be abandoned and requests
    // that must finish (storage writes, the ledger) alike.
    const std::atomic<bool>* abort = nullptr;
    // Printable form without secrets or body: "POST https://host/path?key=[REDACTED]".
    std::string describe() const;
};

struct HttpResponse {
    int status = 0;
    Headers headers;  // names lower-cased
    std::string body;
    // The first header with this (case-insensitive) name, "" if none.
    std::string header(std::string_view name) const;
};

// True for the transport's BAD_RESPONSE about a body over max_response_bytes (refused at its
// Content-Length, or as soon as the bytes received pass the cap; never buffered whole).
bool is_body_too_large(const util::Status& status);
// The wording of that message, shared by the transport and is_body_too_large.
inline constexpr std::string_view k_body_too_large = "response body over ";

class HttpTransport {
public:
    virtual ~HttpTransport() = default;
    // Sends a request and returns any HTTP answer (4xx/5xx included) as a response. Transport
    // failures are Status: MODEL_UNAVAILABLE for connection refused/reset/DNS, TIMEOUT for
    // timeouts, BAD_RESPONSE for truncated or oversized bodies, CANCELLED when the
    // transport's abort flag stopped the transfer. Safe from several threads.
    virtual util::Result<HttpResponse> send(const HttpRequest& request) = 0;
};

// An HttpTransport that sends through another one, each request with abort set to the given
// flag (unless the request has its own): what a provider uses over the process's shared
// transport, so that its requests (and its token fetches) can be abandoned and nothing else.
class AbortableTransport final : public HttpTransport {
public:
    // inner and abort (when not null) must outlive this.
    AbortableTransport(HttpTransport& inner, const std::atomic<bool>* abort)
        : m_inner(inner), m_abort(abort) {}
    util::Result<HttpResponse> send(const HttpRequest& request) override;

private:
    HttpTransport& m_inner;
    const std::atomic<bool>* m_abort;
};

}  // namespace assetgen::net
