// The floor of scripts/bench: the irreducible CPU work of one image of a given size, measured
// on this machine with the fastest correct code the project has: base64-decode the payload (the
// table-driven util::base64_decode), SHA-256 it (OpenSSL, util::sha256), write it to a new file
// with one write() and fsync() it (a new file each time, as a run writes them). Also times the two
// readers of a whole generateContent answer carrying that image (the JsonView one assetgen uses and
// the nlohmann reference).
//
//   bench_floor --bytes N [--count K] [--dir DIR]
// prints one line of key=value pairs (milliseconds of CPU per image, user + system, medians of
// K rounds): bytes decode_ms sha256_ms write_fsync_ms floor_ms reader_ms dom_reader_ms.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "provider/gemini_wire.hpp"
#include "util/base64.hpp"
#include "util/hash.hpp"

using namespace assetgen;

namespace {

double cpu_ms() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

[[noreturn]] void usage() {
    std::fprintf(stderr, "usage: bench_floor --bytes N [--count K] [--dir DIR]\n");
    std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t bytes = 0;
    int count = 50;
    std::string dir = "/tmp";
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string flag = argv[i];
        if (flag == "--bytes") {
            bytes = std::strtoull(argv[i + 1], nullptr, 10);
        } else if (flag == "--count") {
            count = std::atoi(argv[i + 1]);
        } else if (flag == "--dir") {
            dir = argv[i + 1];
        } else {
            usage();
        }
    }
    if (bytes == 0 || count < 1 || argc % 2 == 0) {
        usage();
    }
    std::mt19937_64 rng(bytes);
    std::string image(bytes, '\0');
    for (char& c : image) {
        c = static_cast<char>(rng());
    }
    const std::string payload = util::base64_encode(image);
    const std::string answer =
        R"({"candidates":[{"content":{"role":"model","parts":[{"inlineData":{"mimeType":"image/png","data":")" +
        payload +
        R"("}}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":12,)"
        R"("candidatesTokenCount":1290,"totalTokenCount":1302},"modelVersion":"m"})";

    std::vector<double> decode, sha, write_fsync, reader, dom;
    std::vector<std::string> paths;
    for (int k = 0; k < count; ++k) {
        double t0 = cpu_ms();
        auto decoded = util::base64_decode(payload);
        double t1 = cpu_ms();
        if (!decoded.ok() || *decoded != image) {
            std::fprintf(stderr, "bench_floor: the decoder is wrong\n");
            return 1;
        }
        volatile auto digest = util::sha256(*decoded)[0];
        (void)digest;
        double t2 = cpu_ms();
        const std::string path = dir + "/floor-" + std::to_string(k) + ".bin";
        int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 ||
            ::write(fd, decoded->data(), decoded->size()) !=
                static_cast<ssize_t>(decoded->size()) ||
            ::fsync(fd) != 0 || ::close(fd) != 0) {
            std::perror(path.c_str());
            return 1;
        }
        double t3 = cpu_ms();
        paths.push_back(path);  // removed at the end: each image is a new file, as in a run
        double t4 = cpu_ms();
        auto fast = provider::parse_gemini_response(answer);
        double t5 = cpu_ms();
        auto ref = provider::parse_gemini_response_dom(answer);
        double t6 = cpu_ms();
        if (!fast.ok() || !ref.ok() || fast->data != image || ref->data != image) {
            std::fprintf(stderr, "bench_floor: a reader is wrong\n");
            return 1;
        }
        decode.push_back(t1 - t0);
        sha.push_back(t2 - t1);
        write_fsync.push_back(t3 - t2);
        reader.push_back(t5 - t4);
        dom.push_back(t6 - t5);
    }
    for (const std::string& p : paths) {
        ::unlink(p.c_str());
    }
    const double floor = median(decode) + median(sha) + median(write_fsync);
    std::printf(
        "bytes=%zu decode_ms=%.3f sha256_ms=%.3f write_fsync_ms=%.3f floor_ms=%.3f reader_ms=%.3f "
        "dom_reader_ms=%.3f\n",
        bytes, median(decode), median(sha), median(write_fsync), floor, median(reader),
        median(dom));
    return 0;
}
