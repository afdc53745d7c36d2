#pragma once
// A small HTTP/1.1 server on 127.0.0.1 for integration tests: one thread per connection,
// keep-alive, and a handler callback that decides each answer, including faults (delays,
// truncated bodies, dropped connections). Fakes of the Gemini API and GCS build on it.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace assetgen::test {

class HttpServer {
public:
    using Headers = std::vector<std::pair<std::string, std::string>>;

    struct Request {
        std::string method;  // "GET", "POST", ...
        std::string target;  // as sent: "/path?query"
        std::string path;    // target before '?', still percent-encoded
        std::string query;   // target after '?', "" if none
        Headers headers;     // names lower-cased, values trimmed
        std::string body;
        // The first header with this name (any case), "" if none.
        std::string header(std::string_view name) const;
        // The value of query parameter name, percent-decoded ('+' stays '+'); "" if absent.
        std::string query_param(std::string_view name) const;
    };

    struct Response {
        int status = 200;
        Headers headers;  // sent as given; Content-Length is added by the server
        std::string body;
        std::chrono::milliseconds delay{0};         // wait this long before answering
        std::optional<std::size_t> content_length;  // announce this instead of body.size()
        bool drop = false;                          // close the connection without answering at all
        bool close = false;    // send "Connection: close" and close after the answer
        bool chunked = false;  // send the body with chunked encoding, no Content-Length
    };

    using Handler = std::function<Response(const Request&)>;

    // Binds 127.0.0.1 on a free port and starts accepting. Throws std::runtime_error on failure.
    explicit HttpServer(Handler handler);
    // Stops the server (see stop()).
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // The bound port.
    int port() const { return m_port; }
    // "127.0.0.1:<port>", e.g. for GCE_METADATA_HOST.
    std::string host() const;
    // "http://127.0.0.1:<port>".
    std::string base_url() const;
    // base_url() + path.
    std::string url(std::string_view path) const;

    // Closes the listener and every connection, cuts delays short, joins all threads. Idempotent.
    void stop();

    // Connections accepted since start.
    std::size_t connections_accepted() const { return m_accepted.load(); }
    // Connections open right now.
    std::size_t open_connections() const { return m_open.load(); }
    // The most connections that were open at the same time.
    std::size_t max_open_connections() const { return m_max_open.load(); }
    // Requests whose handler has been called.
    std::size_t requests_handled() const { return m_requests.load(); }
    // The most handler calls (plus their delays) that ran at the same time.
    std::size_t max_concurrent_requests() const { return m_max_in_flight.load(); }

private:
    void accept_loop();
    void serve(int fd);
    // Waits d or until stop(); false when stopped.
    bool wait_for(std::chrono::milliseconds d);

    Handler m_handler;
    int m_listen_fd = -1;
    int m_port = 0;
    std::atomic<bool> m_stopping{false};
    std::thread m_acceptor;

    std::mutex m_mutex;  // guards m_threads, m_fds and the stop signal
    std::condition_variable m_stopped_cv;
    std::vector<std::thread> m_threads;
    std::set<int> m_fds;

    std::atomic<std::size_t> m_accepted{0};
    std::atomic<std::size_t> m_open{0};
    std::atomic<std::size_t> m_max_open{0};
    std::atomic<std::size_t> m_requests{0};
    std::atomic<std::size_t> m_in_flight{0};
    std::atomic<std::size_t> m_max_in_flight{0};
};

}  // namespace assetgen::test
