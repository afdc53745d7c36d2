// How this works: every send() borrows a libcurl easy handle from a small pool, sets the
// request's options on it, performs the transfer on the calling thread, and gives the handle
// back after curl_easy_reset(). A reset keeps the handle's live connections, DNS cache and TLS
// session cache, so the next request to the same host reuses the connection (keep-alive, or
// an HTTP/2 connection). Options that libcurl reads from the environment (https_proxy,
// no_proxy, ...) are never set here, so proxies work as the user configured them. Bodies go
// into a string (reserved once from Content-Length; a big one comes from util::BufferPool) through
// a write callback that refuses to grow past max_response_bytes; curl error codes are mapped onto
// the project's transient/permanent codes in one table. A request that pins addresses
// (HttpRequest::resolve, CURLOPT_RESOLVE) gets a fresh handle that is cleaned up afterwards: pinned
// entries live in the handle's DNS cache and must not leak into later requests, nor may a pooled
// connection to another address be reused for it.

#include "net/curl_transport.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <memory>

#include "util/buffer_pool.hpp"
#include "util/text.hpp"

namespace assetgen::net {
namespace {

using util::Code;

void global_init_once() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// What the callbacks fill in during one transfer.
struct Transfer {
    HttpResponse response;
    std::size_t max_bytes = 0;
    bool too_large = false;
    const std::atomic<bool>* abort = nullptr;
    bool aborted = false;
    CURL* curl = nullptr;
    bool sized = false;  // the body's buffer was sized from Content-Length
    // HttpRequest::on_body: 2xx bodies go there; the status it stopped the transfer with.
    const std::function<util::Status(const HttpResponse&, std::string_view)>* sink = nullptr;
    util::Status sink_status;
};

// Called by libcurl about once a second even while nothing arrives (and more often while data
// flows): a non-zero return stops the transfer with CURLE_ABORTED_BY_CALLBACK.
int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    auto* transfer = static_cast<Transfer*>(user);
    if (transfer->abort != nullptr && transfer->abort->load()) {
        transfer->aborted = true;
        return 1;
    }
    return 0;
}

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
    auto* transfer = static_cast<Transfer*>(user);
    std::size_t n = size * count;
    if (transfer->sink != nullptr) {
        long code = 0;
        curl_easy_getinfo(transfer->curl, CURLINFO_RESPONSE_CODE, &code);
        if (code >= 200 && code < 300) {
            transfer->response.status = static_cast<int>(code);
            transfer->sink_status =
                (*transfer->sink)(transfer->response, std::string_view(data, n));
            return transfer->sink_status.ok() ? n : 0;
        }
    }
    if (transfer->response.body.size() + n > transfer->max_bytes) {
        transfer->too_large = true;
        return 0;  // anything but n aborts the transfer with CURLE_WRITE_ERROR
    }
    if (!transfer->sized) {
        // One allocation for the whole body when its length is announced (a 2 MB answer
        // otherwise grows through a dozen reallocations and copies).
        transfer->sized = true;
        curl_off_t length = -1;
        if (curl_easy_getinfo(transfer->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length) ==
                CURLE_OK &&
            length > 0) {
            const std::size_t bytes =
                std::min(static_cast<std::size_t>(length), transfer->max_bytes);
            if (bytes >= util::BufferPool::k_min_bytes) {
                // A big answer (an image): an already-faulted-in buffer from the pool.
                transfer->response.body = util::BufferPool::shared().take(bytes);
            } else {
                transfer->response.body.reserve(bytes);
            }
        }
    }
    transfer->response.body.append(data, n);
    return n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
    auto* transfer = static_cast<Transfer*>(user);
    std::size_t n = size * count;
    std::string_view line(data, n);
    if (util::starts_with(line, "HTTP/")) {
        // A new response starts (after "100 Continue" or a proxy's CONNECT answer): only the
        // final response's headers count.
        transfer->response.headers.clear();
        return n;
    }
    auto colon = line.find(':');
    if (colon == std::string_view::npos) {
        return n;  // the blank line that ends the headers, or an obsolete folded line
    }
    transfer->response.headers.emplace_back(util::to_lower(util::trim(line.substr(0, colon))),
                                            std::string(util::trim(line.substr(colon + 1))));
    return n;
}

bool has_header(const Headers& headers, std::string_view name) {
    return std::any_of(headers.begin(), headers.end(), [&](const auto& h) {
        return util::to_lower(h.first) == util::to_lower(name);
    });
}

bool has_line_break(std::string_view s) {
    return s.find_first_of("\r\n") != std::string_view::npos;
}

struct SlistDeleter {
    void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

// Appends one "Name: value" line; false when libcurl runs out of memory.
bool append_header(Slist& list, const std::string& line) {
    curl_slist* grown = curl_slist_append(list.get(), line.c_str());
    if (grown == nullptr) {
        return false;
    }
    list.release();
    list.reset(grown);
    return true;
}

Code code_for(CURLcode rc) {
    switch (rc) {
        case CURLE_OPERATION_TIMEDOUT:
            return Code::deadline_exceeded;
        case CURLE_PARTIAL_FILE:
        case CURLE_WRITE_ERROR:
        case CURLE_FILESIZE_EXCEEDED:
        case CURLE_WEIRD_SERVER_REPLY:
        case CURLE_BAD_CONTENT_ENCODING:
        case CURLE_RANGE_ERROR:
            return Code::bad_response;
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CRL_BADFILE:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
            return Code::config;
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_URL_MALFORMAT:
            return Code::invalid_input;
        case CURLE_OUT_OF_MEMORY:
        case CURLE_FAILED_INIT:
        case CURLE_BAD_FUNCTION_ARGUMENT:
        case CURLE_UNKNOWN_OPTION:
            return Code::internal;
        default:
            // Resolve, connect, send/receive, reset, "got nothing", TLS handshake, HTTP/2
            // stream errors: the network or the server may recover.
            return Code::unavailable;
    }
}

}  // namespace

CurlTransport::CurlTransport(CurlTransportOptions options) : m_options(std::move(options)) {
    global_init_once();
}

CurlTransport::~CurlTransport() {
    for (void* handle : m_idle) {
        curl_easy_cleanup(handle);
    }
}

void* CurlTransport::acquire_handle() {
    {
        std::lock_guard lock(m_mutex);
        if (!m_idle.empty()) {
            void* handle = m_idle.back();
            m_idle.pop_back();
            return handle;
        }
    }
    return curl_easy_init();
}

void CurlTransport::release_handle(void* handle) {
    // Forget this request's options (and pointers into its stack frame); keep connections.
    curl_easy_reset(handle);
    {
        std::lock_guard lock(m_mutex);
        if (m_idle.size() < m_options.max_idle_handles) {
            m_idle.push_back(handle);
            return;
        }
    }
    curl_easy_cleanup(handle);
}

util::Result<HttpResponse> CurlTransport::send(const HttpRequest& request) {
    const std::string where = request.describe();
    for (const auto& [name, value] : request.headers) {
        if (name.empty() || has_line_break(name) || has_line_break(value) ||
            name.find(':') != std::string::npos) {
            return util::error(Code::invalid_input, where + ": malformed header name or value");
        }
    }
    if (has_line_break(request.method) || request.method.empty()) {
        return util::error(Code::invalid_input, where + ": malformed method");
    }
    for (const auto& entry : request.resolve) {
        if (entry.empty() || has_line_break(entry)) {
            return util::error(Code::invalid_input, where + ": malformed resolve entry");
        }
    }

    Slist headers;
    bool listed = true;
    for (const auto& [name, value] : request.headers) {
        // "Name;" is libcurl's way of sending a header with an empty value.
        listed = listed && append_header(headers, value.empty() ? name + ";" : name + ": " + value);
    }
    bool sends_body = request.method != "GET" && request.method != "HEAD";
    // No "Expect: 100-continue" round trip, and no form Content-Type unless the caller asks.
    listed = listed && append_header(headers, "Expect:");
    if (sends_body && !has_header(request.headers, "content-type")) {
        listed = listed && append_header(headers, "Content-Type:");
    }
    Slist pins;
    for (const auto& entry : request.resolve) {
        listed = listed && append_header(pins, entry);
    }
    if (!listed) {
        return util::error(Code::internal, where + ": out of memory building headers");
    }

    const bool pinned = !request.resolve.empty();
    CURL* curl = pinned ? curl_easy_init() : static_cast<CURL*>(acquire_handle());
    if (curl == nullptr) {
        return util::error(Code::internal, where + ": cannot create a libcurl handle");
    }
    Transfer transfer;
    transfer.max_bytes = request.max_response_bytes;
    transfer.abort = request.abort != nullptr ? request.abort : m_options.abort;
    transfer.curl = curl;
    if (request.on_body) {
        transfer.sink = &request.on_body;
    }
    char errbuf[CURL_ERROR_SIZE] = {};

    curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
    curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, m_options.user_agent.c_str());
    if (request.connect_timeout.count() > 0) {
        curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                         static_cast<long>(request.connect_timeout.count()));
    }
    if (request.timeout.count() > 0) {
        curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
    }
    // Refuses at once an answer whose Content-Length is over the cap; the write callback
    // catches the rest (chunked or lying answers). A streamed body has no cap here.
    if (!request.on_body) {
        curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE,
                         static_cast<curl_off_t>(request.max_response_bytes));
    }

    if (request.method == "GET") {
        curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    } else if (request.method == "HEAD") {
        curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    } else {
        if (request.method == "POST") {
            curl_easy_setopt(curl, CURLOPT_POST, 1L);
        } else {
            curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
        }
        if (!request.body.empty() || request.method != "DELETE") {
            curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                             static_cast<curl_off_t>(request.body.size()));
            curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
        }
    }
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
    if (pinned) {
        curl_easy_setopt(curl, CURLOPT_RESOLVE, pins.get());
    }
    if (transfer.abort != nullptr) {
        curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &transfer);
        curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    }

    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (pinned) {
        curl_easy_cleanup(curl);
    } else {
        release_handle(curl);
    }

    if (rc != CURLE_OK) {
        if (transfer.aborted) {
            return util::error(Code::cancelled, where + ": abandoned while in flight (stopped)");
        }
        if (!transfer.sink_status.ok()) {
            return transfer.sink_status;
        }
        if (transfer.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
            return util::error(Code::bad_response, where + ": " + std::string(k_body_too_large) +
                                                       std::to_string(request.max_response_bytes) +
                                                       " bytes");
        }
        std::string detail = errbuf[0] != '\0' ? std::string(errbuf) : curl_easy_strerror(rc);
        while (!detail.empty() && (detail.back() == '\n' || detail.back() == '\r')) {
            detail.pop_back();
        }
        if (rc == CURLE_PARTIAL_FILE) {
            detail = "truncated response body (" + detail + ")";
        }
        Code code = code_for(rc);
        // A reused connection that still held bytes sent past an earlier answer's
        // Content-Length reads them as this answer's status line: a malformed answer
        // (retried on a new connection), not a wrong URL (INVALID_INPUT failed the row).
        if (rc == CURLE_UNSUPPORTED_PROTOCOL && detail.find("HTTP/0.9") != std::string::npos) {
            code = Code::bad_response;
        }
        return util::error(code, where + ": " + util::redact(detail));
    }
    transfer.response.status = static_cast<int>(status);
    return std::move(transfer.response);
}

}  // namespace assetgen::net
