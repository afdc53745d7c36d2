// The loopback Gemini fake of scripts/bench: answers every generateContent with one
// pre-encoded body after a fixed latency, and models.get with one Model resource, so that a
// benchmark measures assetgen and not the fake (the Python fake, kept for behaviour tests,
// spends 0.5-0.8 ms of CPU per answer and more on a 2 MB one). Built on tests/support's
// HttpServer (127.0.0.1, a thread per connection, keep-alive).
//
//   bench_fake --answer FILE --model FILE [--latency-ms N] --port-file FILE
// Runs until SIGINT or SIGTERM. GET /_fake/stats answers {"requests":N,"max_in_flight":M,
// "connections":C,"first_request_us":T0,"last_request_us":T1}: the generateContent requests
// since the last POST /_fake/reset, when the first and the last of them arrived (CLOCK_REALTIME,
// µs since the epoch, so that scripts/bench can set them against the client's start and end),
// and the connections accepted since then. From them the bench tells where a run's wall time
// went: before the first request (startup), after the last answer (teardown), and the slots'
// idle time in between (the gap between an answer and the next request on that slot).
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "support/http_server.hpp"

using assetgen::test::HttpServer;

namespace {

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        std::fprintf(stderr, "bench_fake: cannot read %s\n", path.c_str());
        std::exit(2);
    }
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

int main(int argc, char** argv) {
    std::string answer_file, model_file, port_file;
    long latency_ms = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string flag = argv[i];
        if (flag == "--answer") {
            answer_file = argv[i + 1];
        } else if (flag == "--model") {
            model_file = argv[i + 1];
        } else if (flag == "--latency-ms") {
            latency_ms = std::atol(argv[i + 1]);
        } else if (flag == "--port-file") {
            port_file = argv[i + 1];
        } else {
            answer_file.clear();
            break;
        }
    }
    if (answer_file.empty() || model_file.empty() || port_file.empty() || argc % 2 == 0) {
        std::fprintf(
            stderr,
            "usage: bench_fake --answer FILE --model FILE [--latency-ms N] --port-file FILE\n");
        return 2;
    }
    const std::string answer = read_file(answer_file);
    const std::string model = read_file(model_file);
    const std::chrono::milliseconds latency(latency_ms);

    // Signals are taken by sigwait below, not by any server thread.
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);

    // Since the last reset: generateContent requests, the first and last arrival (µs, realtime),
    // and the connections accepted before it (subtracted from the server's count).
    std::atomic<std::uint64_t> generated{0};
    std::atomic<std::int64_t> first_us{0};
    std::atomic<std::int64_t> last_us{0};
    std::atomic<std::size_t> connections_before{0};
    HttpServer* self = nullptr;
    HttpServer server([&](const HttpServer::Request& r) {
        HttpServer::Response out;
        out.headers = {{"Content-Type", "application/json; charset=UTF-8"}};
        if (r.method == "POST" && r.path.ends_with(":generateContent")) {
            const std::int64_t now = std::chrono::duration_cast<std::chrono::microseconds>(
                                         std::chrono::system_clock::now().time_since_epoch())
                                         .count();
            std::int64_t none = 0;
            first_us.compare_exchange_strong(none, now);
            for (std::int64_t seen = last_us.load();
                 seen < now && !last_us.compare_exchange_weak(seen, now);) {
            }
            generated.fetch_add(1);
            out.body = answer;
            out.delay = latency;
        } else if (r.method == "POST" && r.path == "/_fake/reset") {
            generated = 0;
            first_us = 0;
            last_us = 0;
            // This request's own connection is counted as one from before.
            connections_before = self->connections_accepted();
            out.body = "{}";
        } else if (r.method == "GET" && r.path == "/_fake/stats") {
            out.body = "{\"requests\":" + std::to_string(generated.load()) +
                       ",\"max_in_flight\":" + std::to_string(self->max_concurrent_requests()) +
                       ",\"connections\":" +
                       std::to_string(self->connections_accepted() - connections_before.load()) +
                       ",\"first_request_us\":" + std::to_string(first_us.load()) +
                       ",\"last_request_us\":" + std::to_string(last_us.load()) + "}";
        } else if (r.method == "GET" && r.path.starts_with("/v1beta/models/")) {
            out.body = model;
        } else {
            out.status = 404;
            out.body =
                R"({"error":{"code":404,"message":"bench_fake: not served","status":"NOT_FOUND"}})";
        }
        return out;
    });
    self = &server;
    {
        const std::string tmp = port_file + ".tmp";
        std::ofstream(tmp) << server.port() << "\n";
        std::rename(tmp.c_str(), port_file.c_str());
    }
    int sig = 0;
    sigwait(&stop, &sig);
    std::fprintf(stderr, "bench_fake: %zu requests, at most %zu in flight\n",
                 server.requests_handled(), server.max_concurrent_requests());
    server.stop();
    return 0;
}
