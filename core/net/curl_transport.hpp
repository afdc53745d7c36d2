#pragma once
// The one libcurl implementation of HttpTransport. Only curl_transport.cpp includes curl's
// headers; callers see the HttpTransport interface.

#include <atomic>
#include <cstddef>
#include <mutex>
#include <string>
#include <vector>

#include "net/http.hpp"

namespace assetgen::net {

struct CurlTransportOptions {
    std::string user_agent = "assetgen";  // sent as User-Agent unless a request sets its own
    std::size_t max_idle_handles = 64;    // easy handles (and their connections) kept for reuse
    // When set and true, every transfer in progress stops within about a second and send()
    // returns CANCELLED. Must outlive the transport. A request's own HttpRequest::abort wins.
    const std::atomic<bool>* abort = nullptr;
};

// HTTPS with TLS verification always on, HTTP/2 where the server offers it, proxy variables
// (https_proxy, no_proxy, ...) honoured, and connections reused through a pool of easy
// handles. Thread-safe: each send() borrows its own handle.
class CurlTransport final : public HttpTransport {
public:
    // Initialises libcurl once per process. Never fails; a broken libcurl shows up on send().
    explicit CurlTransport(CurlTransportOptions options = {});
    ~CurlTransport() override;
    CurlTransport(const CurlTransport&) = delete;
    CurlTransport& operator=(const CurlTransport&) = delete;

    // See HttpTransport::send. INVALID_INPUT for a malformed URL or a scheme other than
    // http/https; CONFIG_ERROR when the server's TLS certificate cannot be verified.
    util::Result<HttpResponse> send(const HttpRequest& request) override;

private:
    void* acquire_handle();
    void release_handle(void* handle);

    CurlTransportOptions m_options;
    std::mutex m_mutex;
    std::vector<void*> m_idle;  // CURL* easy handles, reset between requests
};

}  // namespace assetgen::net
