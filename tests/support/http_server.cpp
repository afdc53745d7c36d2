// How this works: an acceptor thread polls the listening socket (so stop() is noticed within
// 50 ms) and starts one thread per connection. A connection thread reads requests one after
// another (keep-alive), asks the handler for each answer, and applies the answer's faults.
// stop() shuts down every open socket, which wakes any thread blocked in recv(), and wakes
// any delay through a condition variable, then joins everything.

#include "support/http_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace assetgen::test {
namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
        s.remove_suffix(1);
    }
    return s;
}

std::string percent_decode(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() &&
            std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
            std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
            out.push_back(
                static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
            i += 2;
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

std::string_view reason(int status) {
    switch (status) {
        case 200:
            return "OK";
        case 201:
            return "Created";
        case 204:
            return "No Content";
        case 308:
            return "Permanent Redirect";
        case 400:
            return "Bad Request";
        case 401:
            return "Unauthorized";
        case 403:
            return "Forbidden";
        case 404:
            return "Not Found";
        case 408:
            return "Request Timeout";
        case 412:
            return "Precondition Failed";
        case 429:
            return "Too Many Requests";
        case 500:
            return "Internal Server Error";
        case 502:
            return "Bad Gateway";
        case 503:
            return "Service Unavailable";
        case 504:
            return "Gateway Timeout";
        default:
            return "Status";
    }
}

bool send_all(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

// Reads more bytes into buffer; false on EOF or error.
bool read_more(int fd, std::string& buffer) {
    char chunk[16384];
    for (;;) {
        ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        buffer.append(chunk, static_cast<std::size_t>(n));
        return true;
    }
}

void note_max(std::atomic<std::size_t>& max, std::size_t value) {
    std::size_t seen = max.load();
    while (value > seen && !max.compare_exchange_weak(seen, value)) {
    }
}

}  // namespace

std::string HttpServer::Request::header(std::string_view name) const {
    std::string wanted = lower(name);
    for (const auto& [key, value] : headers) {
        if (key == wanted) {
            return value;
        }
    }
    return "";
}

std::string HttpServer::Request::query_param(std::string_view name) const {
    std::string_view rest = query;
    while (!rest.empty()) {
        auto amp = rest.find('&');
        std::string_view pair = rest.substr(0, amp);
        auto eq = pair.find('=');
        if (percent_decode(pair.substr(0, eq)) == name) {
            return eq == std::string_view::npos ? "" : percent_decode(pair.substr(eq + 1));
        }
        rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    }
    return "";
}

HttpServer::HttpServer(Handler handler) : m_handler(std::move(handler)) {
    m_listen_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (m_listen_fd < 0) {
        throw std::runtime_error("http_server: socket() failed");
    }
    int one = 1;
    ::setsockopt(m_listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (::bind(m_listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(m_listen_fd, 128) != 0 ||
        ::getsockname(m_listen_fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        ::close(m_listen_fd);
        throw std::runtime_error("http_server: cannot listen on 127.0.0.1");
    }
    m_port = ntohs(addr.sin_port);
    m_acceptor = std::thread([this] { accept_loop(); });
}

HttpServer::~HttpServer() {
    stop();
}

std::string HttpServer::host() const {
    return "127.0.0.1:" + std::to_string(m_port);
}

std::string HttpServer::base_url() const {
    return "http://" + host();
}

std::string HttpServer::url(std::string_view path) const {
    return base_url() + std::string(path);
}

void HttpServer::stop() {
    {
        std::lock_guard lock(m_mutex);
        if (m_stopping.exchange(true)) {
            return;
        }
    }
    m_stopped_cv.notify_all();
    if (m_acceptor.joinable()) {
        m_acceptor.join();
    }
    ::close(m_listen_fd);
    std::vector<std::thread> threads;
    {
        std::lock_guard lock(m_mutex);
        for (int fd : m_fds) {
            ::shutdown(fd, SHUT_RDWR);
        }
        threads.swap(m_threads);
    }
    for (auto& t : threads) {
        t.join();
    }
}

bool HttpServer::wait_for(std::chrono::milliseconds d) {
    std::unique_lock lock(m_mutex);
    return !m_stopped_cv.wait_for(lock, d, [this] { return m_stopping.load(); });
}

void HttpServer::accept_loop() {
    while (!m_stopping.load()) {
        pollfd p{m_listen_fd, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) {
            continue;
        }
        int fd = ::accept4(m_listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) {
            continue;
        }
        std::lock_guard lock(m_mutex);
        m_fds.insert(fd);
        m_accepted.fetch_add(1);
        note_max(m_max_open, m_open.fetch_add(1) + 1);
        m_threads.emplace_back([this, fd] { serve(fd); });
    }
}

void HttpServer::serve(int fd) {
    std::string buffer;
    for (bool keep_alive = true; keep_alive && !m_stopping.load();) {
        std::size_t end;
        while ((end = buffer.find("\r\n\r\n")) == std::string::npos) {
            if (!read_more(fd, buffer)) {
                keep_alive = false;
                break;
            }
        }
        if (!keep_alive) {
            break;
        }
        Request request;
        std::string_view head(buffer.data(), end);
        std::size_t line_end = head.find("\r\n");
        std::string_view start_line = head.substr(0, line_end);
        auto sp1 = start_line.find(' ');
        auto sp2 = start_line.rfind(' ');
        request.method = std::string(start_line.substr(0, sp1));
        request.target = std::string(start_line.substr(sp1 + 1, sp2 - sp1 - 1));
        auto q = request.target.find('?');
        request.path = request.target.substr(0, q);
        request.query = q == std::string::npos ? "" : request.target.substr(q + 1);
        std::string_view rest = line_end == std::string_view::npos ? "" : head.substr(line_end + 2);
        while (!rest.empty()) {
            auto eol = rest.find("\r\n");
            std::string_view line = rest.substr(0, eol);
            auto colon = line.find(':');
            if (colon != std::string_view::npos) {
                request.headers.emplace_back(lower(trim(line.substr(0, colon))),
                                             std::string(trim(line.substr(colon + 1))));
            }
            rest = eol == std::string_view::npos ? "" : rest.substr(eol + 2);
        }
        buffer.erase(0, end + 4);

        bool chunked =
            lower(request.header("transfer-encoding")).find("chunked") != std::string::npos;
        std::size_t length = 0;
        std::string length_text = request.header("content-length");
        auto parsed =
            std::from_chars(length_text.data(), length_text.data() + length_text.size(), length);
        bool bad_length =
            !length_text.empty() &&
            (parsed.ec != std::errc() || parsed.ptr != length_text.data() + length_text.size());
        chunked = chunked || bad_length;  // either way the body cannot be read: answer and close
        if (lower(request.header("expect")) == "100-continue") {
            send_all(fd, "HTTP/1.1 100 Continue\r\n\r\n");
        }
        while (!chunked && buffer.size() < length) {
            if (!read_more(fd, buffer)) {
                keep_alive = false;
                break;
            }
        }
        if (!keep_alive) {
            break;
        }
        request.body = buffer.substr(0, length);
        buffer.erase(0, length);

        m_requests.fetch_add(1);
        note_max(m_max_in_flight, m_in_flight.fetch_add(1) + 1);
        Response response;
        if (chunked) {
            response = Response{
                bad_length ? 400 : 501,
                {},
                bad_length ? "bad Content-Length\n" : "chunked request bodies are not supported\n"};
            response.close = true;
        } else {
            try {
                response = m_handler(request);
            } catch (const std::exception& e) {
                response = Response{500, {}, std::string("handler threw: ") + e.what() + "\n"};
            }
        }
        bool awake = response.delay.count() <= 0 || wait_for(response.delay);
        if (!awake || response.drop) {
            m_in_flight.fetch_sub(1);
            break;
        }
        keep_alive = !response.close && lower(request.header("connection")) != "close";
        std::string out = "HTTP/1.1 " + std::to_string(response.status) + " " +
                          std::string(reason(response.status)) + "\r\n";
        for (const auto& [name, value] : response.headers) {
            out += name + ": " + value + "\r\n";
        }
        if (response.chunked) {
            out += "Transfer-Encoding: chunked\r\n";
        } else {
            out += "Content-Length: " +
                   std::to_string(response.content_length.value_or(response.body.size())) + "\r\n";
        }
        if (!keep_alive) {
            out += "Connection: close\r\n";
        }
        out += "\r\n";
        if (request.method != "HEAD" && response.chunked) {
            char size[32];
            std::snprintf(size, sizeof size, "%zx\r\n", response.body.size());
            out += response.body.empty() ? "" : size + response.body + "\r\n";
            out += "0\r\n\r\n";
        } else if (request.method != "HEAD") {
            out += response.body;
        }
        // Out of flight before the answer leaves: once the client has it, it may start another
        // request, and counting both would report more concurrency than there was.
        m_in_flight.fetch_sub(1);
        bool sent = send_all(fd, out);
        // A short body under a longer Content-Length only reads as truncated once we hang up.
        if (!sent || (!response.chunked && response.content_length.value_or(response.body.size()) >
                                               response.body.size())) {
            break;
        }
    }
    {
        std::lock_guard lock(m_mutex);
        m_fds.erase(fd);
    }
    ::shutdown(fd, SHUT_RDWR);
    ::close(fd);
    m_open.fetch_sub(1);
}

}  // namespace assetgen::test
