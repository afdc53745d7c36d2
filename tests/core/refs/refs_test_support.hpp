#pragma once
// Helpers for the refs tests: tiny "images" (valid magic numbers, distinct payloads), a
// scripted HttpTransport that records what it was asked, a clock that records its waits, and
// an in-memory Storage.

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "net/http.hpp"
#include "storage/storage.hpp"
#include "support/fake_clock.hpp"
#include "util/clock.hpp"

namespace assetgen::test {

// Bytes that sniff as PNG, distinct per payload.
inline std::string png(const std::string& payload) {
    return std::string("\x89PNG\r\n\x1a\n", 8) + "payload:" + payload;
}
// Bytes that sniff as JPEG.
inline std::string jpeg(const std::string& payload) {
    return std::string("\xff\xd8\xff\xe0", 4) + payload;
}

// Answers each request with a handler and remembers every request it saw.
class ScriptedTransport final : public net::HttpTransport {
public:
    using Handler = std::function<util::Result<net::HttpResponse>(const net::HttpRequest&)>;
    explicit ScriptedTransport(Handler handler) : m_handler(std::move(handler)) {}
    util::Result<net::HttpResponse> send(const net::HttpRequest& request) override {
        {
            std::lock_guard lock(m_mutex);
            m_requests.push_back(request);
        }
        return m_handler(request);
    }
    std::vector<net::HttpRequest> requests() const {
        std::lock_guard lock(m_mutex);
        return m_requests;
    }

private:
    Handler m_handler;
    mutable std::mutex m_mutex;
    std::vector<net::HttpRequest> m_requests;
};

inline net::HttpResponse http_answer(int status, std::string body, net::Headers headers = {}) {
    net::HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    r.headers = std::move(headers);
    return r;
}

// A FakeClock that also records the length of every wait.
class RecordingClock final : public util::Clock {
public:
    std::int64_t unix_ms() const override { return m_clock.unix_ms(); }
    util::SteadyTime steady() const override { return m_clock.steady(); }
    void sleep_for(std::chrono::nanoseconds d) override {
        {
            std::lock_guard lock(m_mutex);
            m_waits.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(d));
        }
        m_clock.sleep_for(d);
    }
    void advance(std::chrono::nanoseconds d) { m_clock.advance(d); }
    std::vector<std::chrono::milliseconds> waits() const {
        std::lock_guard lock(m_mutex);
        return m_waits;
    }

private:
    FakeClock m_clock;
    mutable std::mutex m_mutex;
    std::vector<std::chrono::milliseconds> m_waits;
};

// Objects in memory, keyed by location; counts reads.
class MemoryStorage final : public storage::Storage {
public:
    std::map<std::string, std::string> objects;
    int reads = 0;
    util::Status put(const std::string& location, std::string_view data,
                     const std::string&) override {
        objects[location] = std::string(data);
        return util::ok_status();
    }
    util::Result<std::string> get(const std::string& location) override {
        std::lock_guard lock(m_mutex);
        ++reads;
        auto it = objects.find(location);
        if (it == objects.end()) {
            return util::error(util::Code::not_found, location + ": no such object");
        }
        return it->second;
    }
    // The fetcher reads gs:// refs with read() (a whole object, its retry policy passed down).
    util::Result<storage::ObjectRead> read(const std::string& location,
                                           const storage::ReadOptions&) override {
        TRY_ASSIGN(std::string data, get(location));
        storage::ObjectRead out;
        out.size = data.size();
        out.data = std::move(data);
        out.generation = 1;
        return out;
    }
    util::Result<bool> exists(const std::string& location) override {
        return objects.count(location) > 0;
    }
    util::Result<std::vector<std::string>> list(const std::string&) override {
        return std::vector<std::string>{};
    }

private:
    std::mutex m_mutex;
};

}  // namespace assetgen::test
