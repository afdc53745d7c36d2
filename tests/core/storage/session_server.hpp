#pragma once
// The server side of one resumable upload, for ScriptedTransport::set_handler: it keeps the
// bytes it was sent, answers 308 with Range while incomplete and the object when done, and
// plays faults named like the conformance suite's instructions (retry_tests.json).

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "core/storage/gcs_test_support.hpp"

namespace assetgen::test::gcs {

class SessionServer {
public:
    std::string session_url =
        "https://storage.googleapis.com/upload/storage/v1/b/assets-bucket/o?uploadType="
        "resumable&upload_id=SESSION1";
    std::string name = "big.bin";
    std::string stored;  // bytes the session holds
    bool complete = false;
    int starts = 0;
    int chunks = 0;
    int queries = 0;
    int completions = 0;
    std::vector<std::string> ranges;  // Content-Range of every PUT
    std::vector<std::string> auth;    // Authorization of every PUT
    // Per request, in order: "503", "408", "reset" (connection reset), "404" (session gone),
    // "lost" (the chunk is applied, then 503), or "503-after-NK" (sticky until a chunk reaches N
    // KiB in total: the bytes up to N KiB are kept, then 503).
    std::deque<std::string> faults;

    util::Result<net::HttpResponse> handle(const net::HttpRequest& r) {
        std::string fault = next_fault(r);
        if (fault == "reset") {
            return util::Status(util::Code::unavailable, "connection reset by peer");
        }
        if (fault == "503" || fault == "408" || fault == "404") {
            return answer(std::stoi(fault), error_json(std::stoi(fault), "backendError", "fault"));
        }
        if (r.method == "POST") {
            ++starts;
            return answer(200, "", {{"location", session_url}});
        }
        std::string range = header_of(r, "Content-Range");
        ranges.push_back(range);
        auth.push_back(header_of(r, "Authorization"));
        // "bytes */T" (a question, or the final word) or "bytes A-B/T" / "bytes A-B/*".
        std::size_t slash = range.find('/');
        std::string span = range.substr(6, slash - 6);
        std::string total_text = range.substr(slash + 1);
        long long total = total_text == "*" ? -1 : std::stoll(total_text);
        if (span == "*") {
            ++queries;
        } else {
            ++chunks;
            std::uint64_t first = std::stoull(span.substr(0, span.find('-')));
            if (first > stored.size()) {
                return answer(400, error_json(400, "invalid", "gap in the upload"));
            }
            std::size_t skip = stored.size() - first;  // bytes it already holds
            std::string bytes = skip < r.body.size() ? r.body.substr(skip) : std::string();
            if (fault.rfind("503-after-", 0) == 0) {
                std::size_t limit = std::stoull(fault.substr(10)) * 1024;
                if (limit > stored.size()) {
                    stored += bytes.substr(0, limit - stored.size());
                }
                return answer(503, error_json(503, "backendError", "after"));
            }
            stored += bytes;
        }
        if (!complete && total >= 0 && static_cast<long long>(stored.size()) == total) {
            complete = true;
            ++completions;
        }
        net::HttpResponse done;
        if (complete) {
            done = answer(200, object_json("assets-bucket", name, 4242, stored));
        } else {
            done = answer(
                308, "",
                stored.empty()
                    ? net::Headers{}
                    : net::Headers{{"range", "bytes=0-" + std::to_string(stored.size() - 1)}});
        }
        if (fault == "lost") {
            return answer(503, error_json(503, "backendError", "answer lost"));
        }
        return done;
    }

private:
    std::string next_fault(const net::HttpRequest& r) {
        if (faults.empty()) {
            return "";
        }
        const std::string& f = faults.front();
        if (f.rfind("503-after-", 0) == 0) {
            // Sticky: only the chunk that carries the byte at N KiB triggers it.
            std::string range = header_of(r, "Content-Range");
            if (r.method != "PUT" || range.find("*/") != std::string::npos) {
                return "";
            }
            std::size_t limit = std::stoull(f.substr(10)) * 1024;
            std::uint64_t first = std::stoull(range.substr(6, range.find('-') - 6));
            if (first + r.body.size() <= limit) {
                return "";
            }
        }
        std::string out = f;
        faults.pop_front();
        return out;
    }

    static net::HttpResponse answer(int status, std::string body, net::Headers headers = {}) {
        net::HttpResponse r;
        r.status = status;
        r.body = std::move(body);
        r.headers = std::move(headers);
        return r;
    }
};

}  // namespace assetgen::test::gcs
