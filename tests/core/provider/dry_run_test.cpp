#include <zlib.h>
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "provider/dry_run.hpp"
#include "support/fake_clock.hpp"

using namespace assetgen;
using provider::DryRunProvider;
using provider::ImageRequest;
using provider::SimulateOptions;
using std::chrono::milliseconds;

namespace {

std::uint32_t be32(const std::string& s, std::size_t at) {
    return (std::uint32_t(static_cast<unsigned char>(s[at])) << 24) |
           (std::uint32_t(static_cast<unsigned char>(s[at + 1])) << 16) |
           (std::uint32_t(static_cast<unsigned char>(s[at + 2])) << 8) |
           std::uint32_t(static_cast<unsigned char>(s[at + 3]));
}

struct DecodedPng {
    int width = 0;
    int height = 0;
    std::string rgb;                  // filter bytes removed
    std::vector<std::string> chunks;  // chunk types in order
};

// A strict little PNG reader for what encode_png_rgb writes: checks the signature, every
// chunk's CRC, the IHDR fields, inflates the IDAT data and checks each row's filter byte.
DecodedPng decode_png(const std::string& png) {
    DecodedPng out;
    const std::string signature("\x89PNG\r\n\x1a\n", 8);
    REQUIRE(png.size() > 8);
    REQUIRE(png.substr(0, 8) == signature);
    std::string idat;
    std::size_t at = 8;
    while (at < png.size()) {
        REQUIRE(at + 12 <= png.size());
        std::uint32_t len = be32(png, at);
        REQUIRE(at + 12 + len <= png.size());
        std::string type = png.substr(at + 4, 4);
        std::string data = png.substr(at + 8, len);
        uLong crc = crc32(0L, Z_NULL, 0);
        crc = crc32(crc, reinterpret_cast<const Bytef*>(png.data() + at + 4), 4 + len);
        INFO("chunk " << type);
        CHECK(be32(png, at + 8 + len) == static_cast<std::uint32_t>(crc));
        out.chunks.push_back(type);
        if (type == "IHDR") {
            REQUIRE(len == 13);
            out.width = static_cast<int>(be32(data, 0));
            out.height = static_cast<int>(be32(data, 4));
            CHECK(data[8] == 8);   // bit depth
            CHECK(data[9] == 2);   // RGB
            CHECK(data[10] == 0);  // deflate
            CHECK(data[11] == 0);  // adaptive filtering
            CHECK(data[12] == 0);  // no interlace
        } else if (type == "IDAT") {
            idat += data;
        }
        at += 12 + len;
    }
    REQUIRE(at == png.size());
    std::size_t row = static_cast<std::size_t>(out.width) * 3 + 1;
    std::string raw(row * static_cast<std::size_t>(out.height), '\0');
    uLongf raw_len = raw.size();
    REQUIRE(uncompress(reinterpret_cast<Bytef*>(raw.data()), &raw_len,
                       reinterpret_cast<const Bytef*>(idat.data()), idat.size()) == Z_OK);
    REQUIRE(raw_len == raw.size());
    for (int y = 0; y < out.height; ++y) {
        CHECK(raw[static_cast<std::size_t>(y) * row] == 0);
        out.rgb.append(raw, static_cast<std::size_t>(y) * row + 1, row - 1);
    }
    return out;
}

ImageRequest request(const std::string& scene, int variant, int attempt = 1) {
    ImageRequest r;
    r.model = "gemini-2.5-flash-image";
    r.prompt = "product on clean bg #" + scene;
    r.scene_id = scene;
    r.variant = variant;
    r.attempt = attempt;
    return r;
}

SimulateOptions options(const std::string& spec) {
    auto o = provider::parse_simulate(spec);
    REQUIRE(o.ok());
    return *o;
}

}  // namespace

TEST_CASE("provider: encode_png_rgb writes a PNG that inflates back to its pixels", "[provider]") {
    const int w = 5, h = 3;  // odd sizes catch stride mistakes
    std::string rgb;
    for (int i = 0; i < w * h * 3; ++i) {
        rgb.push_back(static_cast<char>(i * 7 % 256));
    }
    DecodedPng d = decode_png(provider::encode_png_rgb(w, h, rgb));
    CHECK(d.width == w);
    CHECK(d.height == h);
    CHECK(d.rgb == rgb);
    CHECK(d.chunks == std::vector<std::string>{"IHDR", "IDAT", "IEND"});

    CHECK(provider::encode_png_rgb(0, 3, "").empty());
    CHECK(provider::encode_png_rgb(2, 2, "short").empty());
}

TEST_CASE("provider: the dry run's PNG decodes and its pixels depend on prompt and variant",
          "[provider]") {
    test::FakeClock clock;
    DryRunProvider dry(options("size=32x16"), clock);

    auto v1 = dry.generate(request("A", 1));
    auto v2 = dry.generate(request("A", 2));
    auto v1_again = dry.generate(request("A", 1, 3));  // a later attempt: same bytes
    auto other = dry.generate(request("B", 1));
    REQUIRE(v1.ok());
    REQUIRE(v2.ok());
    REQUIRE(v1_again.ok());
    REQUIRE(other.ok());

    DecodedPng d1 = decode_png(v1->data);
    CHECK(d1.width == 32);
    CHECK(d1.height == 16);
    CHECK(v1->mime_type == "image/png");
    CHECK(v1->model_version == "dry-run");
    CHECK(v1->data == v1_again->data);
    CHECK(decode_png(v2->data).rgb != d1.rgb);
    CHECK(decode_png(other->data).rgb != d1.rgb);

    // A second provider (another process, another day) makes the same bytes.
    test::FakeClock clock2;
    DryRunProvider dry2(options("size=32x16,seed=99"), clock2);
    CHECK(dry2.generate(request("A", 1))->data == v1->data);

    // Not a flat colour: the image has a pattern.
    std::set<std::string> colours;
    for (std::size_t i = 0; i + 3 <= d1.rgb.size(); i += 3) {
        colours.insert(d1.rgb.substr(i, 3));
    }
    CHECK(colours.size() > 4);
}

TEST_CASE("provider: the dry run reports realistic token usage", "[provider]") {
    test::FakeClock clock;
    DryRunProvider dry(SimulateOptions{}, clock);
    ImageRequest r = request("A", 1);
    r.prompt = std::string(41, 'x');  // ceil(41 / 4) = 11 text tokens
    r.refs.push_back({"image/png", "ref-1"});
    r.refs.push_back({"image/jpeg", "ref-2"});
    auto result = dry.generate(r);
    REQUIRE(result.ok());
    CHECK(result->usage.prompt_tokens == 11 + 2 * 258);
    CHECK(result->usage.output_tokens == 1290);
    CHECK(result->usage.thoughts_tokens == 0);
}

TEST_CASE("provider: simulated latency advances the fake clock and never sleeps real time",
          "[provider]") {
    SECTION("without jitter every call waits exactly the latency") {
        test::FakeClock clock;
        DryRunProvider dry(options("latency=10s"), clock);
        auto real_start = std::chrono::steady_clock::now();
        auto start = clock.steady();
        for (int i = 1; i <= 20; ++i) {
            REQUIRE(dry.generate(request("S" + std::to_string(i), 1)).ok());
        }
        CHECK(clock.steady() - start == std::chrono::seconds(200));
        CHECK(clock.sleeps() == 20);
        CHECK(std::chrono::steady_clock::now() - real_start < std::chrono::seconds(5));
    }
    SECTION("jitter stays within its bounds, averages out, and repeats per attempt") {
        test::FakeClock clock;
        DryRunProvider dry(options("latency=100ms,jitter=20ms,seed=7,size=1x1"), clock);
        std::set<std::int64_t> seen;
        std::int64_t total = 0;
        const int n = 2000;
        for (int i = 0; i < n; ++i) {
            auto before = clock.steady();
            REQUIRE(dry.generate(request("S" + std::to_string(i), 1 + i % 3)).ok());
            auto waited = std::chrono::duration_cast<milliseconds>(clock.steady() - before);
            CHECK(waited >= milliseconds(80));
            CHECK(waited <= milliseconds(120));
            seen.insert(waited.count());
            total += waited.count();
        }
        CHECK(seen.size() == 41);  // every whole millisecond from 80 to 120 turns up
        CHECK(static_cast<double>(total) / n == Approx(100.0).margin(1.0));

        test::FakeClock c1, c2;
        DryRunProvider a(options("latency=100ms,jitter=20ms,seed=7"), c1);
        DryRunProvider b(options("latency=100ms,jitter=20ms,seed=7"), c2);
        for (int attempt = 1; attempt <= 5; ++attempt) {
            (void)a.generate(request("X", 2, attempt));
            (void)b.generate(request("X", 2, attempt));
            CHECK(c1.steady() == c2.steady());
        }
    }
    SECTION("jitter larger than the latency is floored at zero") {
        test::FakeClock clock;
        DryRunProvider dry(options("latency=5ms,jitter=50ms"), clock);
        for (int i = 0; i < 200; ++i) {
            REQUIRE(dry.generate(request("S" + std::to_string(i), 1)).ok());
        }
        CHECK(clock.sleeps() < 200);  // some draws came out at 0 and did not wait at all
        CHECK(clock.steady().time_since_epoch() <= std::chrono::milliseconds(200 * 55));
    }
}

TEST_CASE("provider: simulated faults follow error_rate and are transient", "[provider]") {
    test::FakeClock clock;
    SECTION("error_rate=0 never fails") {
        DryRunProvider dry(options("error_rate=0"), clock);
        for (int i = 0; i < 1000; ++i) {
            REQUIRE(dry.generate(request("S" + std::to_string(i), 1)).ok());
        }
    }
    SECTION("error_rate=1 always fails with a transient 503 or 429") {
        DryRunProvider dry(options("error_rate=1"), clock);
        int unavailable = 0, rate_limited = 0;
        for (int i = 0; i < 400; ++i) {
            auto r = dry.generate(request("S" + std::to_string(i), 1 + i % 3, 1 + i % 4));
            REQUIRE_FALSE(r.ok());
            const util::Status& s = r.status();
            CHECK(util::is_transient(s.code()));
            if (s.code() == util::Code::unavailable) {
                ++unavailable;
                CHECK(s.http_status() == 503);
                CHECK(s.message() == "simulated 503 from the dry-run provider");
            } else {
                REQUIRE(s.code() == util::Code::rate_limited);
                ++rate_limited;
                CHECK(s.http_status() == 429);
                REQUIRE(s.retry_after().has_value());
                CHECK(*s.retry_after() == milliseconds(1000));
            }
        }
        CHECK(unavailable > 150);
        CHECK(rate_limited > 150);
    }
    SECTION("about 2% of 10,000 attempts fail at error_rate=0.02") {
        DryRunProvider dry(options("error_rate=0.02,seed=7,size=1x1"), clock);
        int failed = 0;
        for (int i = 0; i < 10'000; ++i) {
            if (!dry.generate(request("BATCH-" + std::to_string(i / 3), 1 + i % 3)).ok()) {
                ++failed;
            }
        }
        // Binomial: mean 200, standard deviation 14.
        CHECK(failed > 150);
        CHECK(failed < 250);
    }
    SECTION("a fault is fixed per attempt, and a retry may succeed") {
        DryRunProvider dry(options("error_rate=0.5,seed=3"), clock);
        int cured = 0;
        for (int i = 0; i < 50; ++i) {
            std::string scene = "S" + std::to_string(i);
            auto first = dry.generate(request(scene, 1, 1));
            auto again = dry.generate(request(scene, 1, 1));
            CHECK(first.ok() == again.ok());
            if (!first.ok()) {
                CHECK(first.status().code() == again.status().code());
                if (dry.generate(request(scene, 1, 2)).ok()) {
                    ++cured;
                }
            }
        }
        CHECK(cured > 0);
    }
}

TEST_CASE("provider: the dry run is safe to call from several threads", "[provider]") {
    test::FakeClock clock;
    DryRunProvider dry(options("latency=50ms,jitter=10ms,error_rate=0.1,size=16x16"), clock);
    std::vector<std::string> single;
    for (int i = 0; i < 64; ++i) {
        auto r = dry.generate(request("S" + std::to_string(i), 1));
        single.push_back(r.ok() ? r->data : r.status().to_string());
    }
    std::vector<std::string> threaded(64);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = t; i < 64; i += 4) {
                auto r = dry.generate(request("S" + std::to_string(i), 1));
                threaded[static_cast<std::size_t>(i)] = r.ok() ? r->data : r.status().to_string();
            }
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    CHECK(threaded == single);
}

TEST_CASE("provider: --simulate parses any subset in any order", "[provider]") {
    auto o =
        provider::parse_simulate("size=64x32, seed=7,error_rate=0.02,jitter=20ms,latency=1.5s");
    REQUIRE(o.ok());
    CHECK(o->latency == milliseconds(1500));
    CHECK(o->jitter == milliseconds(20));
    CHECK(o->error_rate == Approx(0.02));
    CHECK(o->seed == 7);
    CHECK(o->width == 64);
    CHECK(o->height == 32);

    auto defaults = provider::parse_simulate("");
    REQUIRE(defaults.ok());
    CHECK(defaults->latency == milliseconds(0));
    CHECK(defaults->error_rate == 0.0);
    CHECK(defaults->width == 64);
    CHECK(defaults->height == 64);

    CHECK(provider::parse_simulate("error_rate=2%")->error_rate == Approx(0.02));
    CHECK(provider::parse_simulate("error_rate=1")->error_rate == 1.0);
    CHECK(provider::parse_simulate("size=4096x1")->width == 4096);
}

TEST_CASE("provider: --simulate names the bad key or value", "[provider]") {
    auto unknown = provider::parse_simulate("latency=1s,foo=2");
    REQUIRE_FALSE(unknown.ok());
    CHECK(unknown.status().code() == util::Code::invalid_input);
    CHECK(unknown.status().message() ==
          "--simulate: unknown key \"foo\" (known: latency, jitter, error_rate, seed, size)");

    struct Bad {
        const char* spec;
        const char* key;
        const char* value;
    };
    for (const Bad& bad :
         {Bad{"latency=fast", "latency", "fast"}, Bad{"jitter=-5ms", "jitter", "-5ms"},
          Bad{"error_rate=1.5", "error_rate", "1.5"}, Bad{"error_rate=-0.1", "error_rate", "-0.1"},
          Bad{"error_rate=nan", "error_rate", "nan"}, Bad{"error_rate=", "error_rate", ""},
          Bad{"seed=abc", "seed", "abc"}, Bad{"seed=-1", "seed", "-1"},
          Bad{"size=64", "size", "64"}, Bad{"size=0x64", "size", "0x64"},
          Bad{"size=4097x1", "size", "4097x1"}, Bad{"size=64x64x3", "size", "64x64x3"}}) {
        INFO(bad.spec);
        auto r = provider::parse_simulate(bad.spec);
        REQUIRE_FALSE(r.ok());
        CHECK(r.status().code() == util::Code::invalid_input);
        const std::string& m = r.status().message();
        CHECK(m.rfind("--simulate: ", 0) == 0);
        CHECK(m.find(bad.key) != std::string::npos);
        CHECK(m.find(std::string("\"") + bad.value + "\"") != std::string::npos);
    }
    CHECK_FALSE(provider::parse_simulate("latency").ok());
    CHECK_FALSE(provider::parse_simulate("seed=1,seed=2").ok());
}
