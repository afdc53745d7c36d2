#pragma once
// Test doubles for the GCS client: a transport that records requests and answers from a script
// (or a handler), and a token source with a fixed token. No network.

#include <cctype>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "auth/token_source.hpp"
#include "net/http.hpp"
#include "storage/crc32c.hpp"
#include "util/status.hpp"

namespace assetgen::test::gcs {

// Records every request; answers with the next canned result, or through handler when set.
class ScriptedTransport final : public net::HttpTransport {
public:
    using Handler = std::function<util::Result<net::HttpResponse>(const net::HttpRequest&)>;

    // Queues an HTTP answer.
    void push(int status, std::string body = "", net::Headers headers = {}) {
        net::HttpResponse r;
        r.status = status;
        r.body = std::move(body);
        r.headers = std::move(headers);
        m_script.emplace_back(std::move(r));
    }
    // Queues a transport failure (e.g. MODEL_UNAVAILABLE for a reset connection).
    void push_error(util::Code code, std::string message) {
        m_script.emplace_back(util::Status(code, std::move(message)));
    }
    // Answers every request through h instead of the script.
    void set_handler(Handler h) { m_handler = std::move(h); }

    util::Result<net::HttpResponse> send(const net::HttpRequest& request) override {
        std::lock_guard<std::mutex> lock(m_mutex);
        requests.push_back(request);
        if (m_handler) {
            return m_handler(request);
        }
        if (m_script.empty()) {
            return util::Status(util::Code::internal, "scripted transport: no answer left");
        }
        util::Result<net::HttpResponse> next = std::move(m_script.front());
        m_script.pop_front();
        return next;
    }

    std::size_t left() const { return m_script.size(); }

    std::vector<net::HttpRequest> requests;

private:
    std::mutex m_mutex;
    std::deque<util::Result<net::HttpResponse>> m_script;
    Handler m_handler;
};

// A fixed token; fails the first `failures` calls with MODEL_UNAVAILABLE.
class FixedTokens final : public auth::TokenSource {
public:
    explicit FixedTokens(std::string token, int failures = 0)
        : m_token(std::move(token)), m_failures(failures) {}
    util::Result<std::string> token() override {
        ++calls;
        if (m_failures > 0) {
            --m_failures;
            return util::Status(util::Code::unavailable, "token endpoint unreachable");
        }
        return m_token;
    }
    std::string describe() const override { return "fixed test token"; }
    int calls = 0;

private:
    std::string m_token;
    int m_failures;
};

// An object resource as the JSON API returns it, for the bytes in data.
inline std::string object_json(const std::string& bucket, const std::string& name,
                               long long generation, const std::string& data,
                               const std::string& content_type = "application/octet-stream",
                               int components = 0) {
    std::string out = "{\"kind\":\"storage#object\",\"bucket\":\"" + bucket + "\",\"name\":\"" +
                      name + "\",\"generation\":\"" + std::to_string(generation) +
                      "\",\"metageneration\":\"1\",\"size\":\"" + std::to_string(data.size()) +
                      "\",\"contentType\":\"" + content_type + "\",\"crc32c\":\"" +
                      storage::crc32c_base64(data) + "\",\"updated\":\"2025-11-24T16:00:00.000Z\"";
    if (components > 0) {
        out += ",\"componentCount\":" + std::to_string(components);
    }
    return out + "}";
}

// Google's error body for an HTTP status.
inline std::string error_json(int code, const std::string& reason, const std::string& message) {
    return "{\"error\":{\"code\":" + std::to_string(code) + ",\"message\":\"" + message +
           "\",\"errors\":[{\"message\":\"" + message + "\",\"domain\":\"global\",\"reason\":\"" +
           reason + "\"}]}}";
}

// The value of a request header (first match, any case); "" when absent.
inline std::string header_of(const net::HttpRequest& r, const std::string& name) {
    for (const auto& [k, v] : r.headers) {
        if (k.size() == name.size()) {
            bool same = true;
            for (std::size_t i = 0; i < k.size(); ++i) {
                if (std::tolower(static_cast<unsigned char>(k[i])) !=
                    std::tolower(static_cast<unsigned char>(name[i]))) {
                    same = false;
                    break;
                }
            }
            if (same) {
                return v;
            }
        }
    }
    return "";
}

}  // namespace assetgen::test::gcs
