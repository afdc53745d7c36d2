// The dry-run provider and its --simulate options.
//
// How this works: nothing here keeps state between calls, so generate() is thread-safe by
// construction. Every "random" choice is a draw from SHA-256 over a salted key of
// (seed, variant, attempt, scene_id): the latency draw and the fault draw use different salts,
// so they are independent, and a retry (attempt + 1) draws afresh, so it may succeed where
// the first attempt failed. The same command therefore produces the same latencies, the same
// faults and the same bytes on every machine. Pixels depend only on prompt and variant (not
// on the seed or the attempt), so a retried or resumed image is byte-identical. The wait goes
// through the Clock, so tests on a fake clock never sleep.

#include "provider/dry_run.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string_view>
#include <vector>

#include "util/hash.hpp"
#include "util/text.hpp"

namespace assetgen::provider {
namespace {

using std::chrono::milliseconds;

constexpr int k_max_side = 4096;
// Output tokens of one image up to 1024x1024 on gemini-2.5-flash-image ("consume 1290
// tokens", https://ai.google.dev/gemini-api/docs/pricing).
constexpr std::int64_t k_output_tokens_per_image = 1290;
// Input tokens of one reference image: ~258 as measured on the Flash image models
// (gemini.md §4; Gemini 3 Pro bills 560). The dry run mimics the default Flash model.
constexpr std::int64_t k_prompt_tokens_per_ref = 258;
// Text input: about four bytes of English per token, the usual rule of thumb.
constexpr std::int64_t k_prompt_bytes_per_token = 4;
constexpr milliseconds k_rate_limit_retry_after{1000};

util::Status bad_value(std::string_view key, std::string_view value, std::string_view why) {
    return util::error(
        util::Code::invalid_input,
        "--simulate: " + std::string(key) + " \"" + std::string(value) + "\" " + std::string(why));
}

// A 64-bit draw from SHA-256 of the salted key; uniform enough for rates down to 1e-6.
std::uint64_t draw(std::string_view salt, std::uint64_t seed, const ImageRequest& request,
                   int byte_offset = 0) {
    std::string key = "assetgen/dry-run/v1|" + std::string(salt) + "|" + std::to_string(seed) +
                      "|" + std::to_string(request.variant) + "|" +
                      std::to_string(request.attempt) + "|" + request.scene_id;
    util::Sha256 digest = util::sha256(key);
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) {
        v = (v << 8) | digest[static_cast<std::size_t>(byte_offset + i)];
    }
    return v;
}

// Maps a 64-bit draw to [0, 1) with 53 bits of precision.
double unit_interval(std::uint64_t v) {
    return static_cast<double>(v >> 11) * 0x1.0p-53;
}

milliseconds simulated_latency(const SimulateOptions& options, const ImageRequest& request) {
    std::int64_t base = options.latency.count();
    std::int64_t jitter = options.jitter.count();
    if (jitter <= 0) {
        return milliseconds(std::max<std::int64_t>(base, 0));
    }
    // Uniform over the 2*jitter+1 whole milliseconds in [-jitter, +jitter].
    double u = unit_interval(draw("latency", options.seed, request));
    auto span = static_cast<double>(2 * jitter + 1);
    auto offset = static_cast<std::int64_t>(std::floor(u * span)) - jitter;
    return milliseconds(std::max<std::int64_t>(base + offset, 0));
}

// The transient fault for this attempt, or ok.
util::Status simulated_fault(const SimulateOptions& options, const ImageRequest& request) {
    if (options.error_rate <= 0.0) {
        return util::ok_status();
    }
    // Bytes 0..7 decide whether to fail, bytes 8..15 which failure: independent draws.
    if (unit_interval(draw("fault", options.seed, request)) >= options.error_rate) {
        return util::ok_status();
    }
    if (draw("fault", options.seed, request, 8) & 1) {
        util::Status s(util::Code::rate_limited, "simulated 429 from the dry-run provider");
        s.with_http_status(429).with_retry_after(k_rate_limit_retry_after);
        return s;
    }
    util::Status s(util::Code::unavailable, "simulated 503 from the dry-run provider");
    s.with_http_status(503);
    return s;
}

unsigned char mix(unsigned char a, unsigned char b, double t) {
    return static_cast<unsigned char>(std::lround(a + (b - a) * t));
}

// A diagonal gradient between two colours with stripes of a third; all three colours, the
// stripe period and the stripe direction come from SHA-256 of prompt and variant. The colour
// depends only on the diagonal x + y and on being in a stripe or not, so both are tabulated
// once per diagonal and each pixel is a lookup.
std::string synthetic_pixels(const std::string& prompt, int variant, int width, int height) {
    util::Sha256 d = util::sha256(prompt + '\0' + std::to_string(variant));
    const unsigned char* from = &d[0];
    const unsigned char* to = &d[3];
    const unsigned char* stripe = &d[6];
    const int period = 4 + d[9] % 13;
    const int direction = d[10] % 4;  // vertical, horizontal, diagonal, anti-diagonal
    const int diagonals = width + height - 1;
    const double span = std::max(1, diagonals - 1);

    // palette[(2 * diagonal + in_stripe) * 3 + channel]
    std::vector<unsigned char> palette(static_cast<std::size_t>(diagonals) * 6);
    for (int k = 0; k < diagonals; ++k) {
        for (int c = 0; c < 3; ++c) {
            unsigned char base = mix(from[c], to[c], k / span);
            palette[static_cast<std::size_t>(k * 6 + c)] = base;
            palette[static_cast<std::size_t>(k * 6 + 3 + c)] = mix(base, stripe[c], 0.5);
        }
    }
    std::string rgb(static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * 3, '\0');
    std::size_t i = 0;
    for (int y = 0; y < height; ++y) {
        for (int x = 0; x < width; ++x) {
            int along = direction == 0   ? x
                        : direction == 1 ? y
                        : direction == 2 ? x + y
                                         : x - y + height;
            bool in_stripe = (along / period) % 3 == 0;
            const unsigned char* colour =
                &palette[static_cast<std::size_t>((x + y) * 6 + (in_stripe ? 3 : 0))];
            rgb[i++] = static_cast<char>(colour[0]);
            rgb[i++] = static_cast<char>(colour[1]);
            rgb[i++] = static_cast<char>(colour[2]);
        }
    }
    return rgb;
}

util::Status parse_size(std::string_view value, SimulateOptions& options) {
    auto x = value.find_first_of("xX");
    auto why = "is not a size like 64x64 (each side 1..4096)";
    if (x == std::string_view::npos) {
        return bad_value("size", value, why);
    }
    int sides[2] = {0, 0};
    std::string_view parts[2] = {value.substr(0, x), value.substr(x + 1)};
    for (int k = 0; k < 2; ++k) {
        const char* b = parts[k].data();
        const char* e = b + parts[k].size();
        auto [end, ec] = std::from_chars(b, e, sides[k]);
        if (parts[k].empty() || ec != std::errc() || end != e || sides[k] < 1 ||
            sides[k] > k_max_side) {
            return bad_value("size", value, why);
        }
    }
    options.width = sides[0];
    options.height = sides[1];
    return util::ok_status();
}

util::Status parse_error_rate(std::string_view value, SimulateOptions& options) {
    std::string_view number = value;
    double scale = 1.0;
    if (!number.empty() && number.back() == '%') {  // "2%" reads as 0.02
        number.remove_suffix(1);
        scale = 0.01;
    }
    double rate = 0;
    const char* b = number.data();
    const char* e = b + number.size();
    auto [end, ec] = std::from_chars(b, e, rate);
    rate *= scale;
    if (number.empty() || ec != std::errc() || end != e || !std::isfinite(rate) || rate < 0.0 ||
        rate > 1.0) {
        return bad_value("error_rate", value, "is not a probability between 0 and 1");
    }
    options.error_rate = rate;
    return util::ok_status();
}

util::Status parse_seed(std::string_view value, SimulateOptions& options) {
    std::uint64_t seed = 0;
    const char* b = value.data();
    const char* e = b + value.size();
    auto [end, ec] = std::from_chars(b, e, seed);
    if (value.empty() || ec != std::errc() || end != e) {
        return bad_value("seed", value, "is not a whole number from 0 to 18446744073709551615");
    }
    options.seed = seed;
    return util::ok_status();
}

util::Status parse_one(std::string_view key, std::string_view value, SimulateOptions& options) {
    if (key == "latency" || key == "jitter") {
        auto d = util::parse_duration(value);
        if (!d.ok()) {
            return bad_value(key, value, "is not a duration like 250ms, 1.5s or 2m");
        }
        (key == "latency" ? options.latency : options.jitter) = *d;
        return util::ok_status();
    }
    if (key == "error_rate") {
        return parse_error_rate(value, options);
    }
    if (key == "seed") {
        return parse_seed(value, options);
    }
    if (key == "size") {
        return parse_size(value, options);
    }
    return util::error(util::Code::invalid_input,
                       "--simulate: unknown key \"" + std::string(key) +
                           "\" (known: latency, jitter, error_rate, seed, size)");
}

}  // namespace

util::Result<SimulateOptions> parse_simulate(const std::string& spec) {
    SimulateOptions options;
    std::vector<std::string> seen;
    for (const std::string& piece : util::split_any(spec, ",")) {
        std::string_view item = util::trim(piece);
        if (item.empty()) {
            continue;  // "latency=1s," or ",," are harmless
        }
        auto eq = item.find('=');
        if (eq == std::string_view::npos) {
            return util::error(util::Code::invalid_input,
                               "--simulate: \"" + std::string(item) +
                                   "\" is not key=value (e.g. latency=100ms,error_rate=0.02)");
        }
        std::string key = util::to_lower(util::trim(item.substr(0, eq)));
        std::string_view value = util::trim(item.substr(eq + 1));
        if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
            return util::error(util::Code::invalid_input,
                               "--simulate: key \"" + key + "\" is given twice");
        }
        TRY(parse_one(key, value, options));
        seen.push_back(key);
    }
    return options;
}

DryRunProvider::DryRunProvider(SimulateOptions options, util::Clock& clock)
    : m_options(options), m_clock(clock) {}

util::Result<ImageResult> DryRunProvider::generate(const ImageRequest& request) {
    // A failed request takes its time too, as a real server's 503 does.
    milliseconds latency = simulated_latency(m_options, request);
    if (latency.count() > 0) {
        m_clock.sleep_for(latency);
    }
    util::Status fault = simulated_fault(m_options, request);
    if (!fault.ok()) {
        return fault;
    }

    int width = std::clamp(m_options.width, 1, k_max_side);
    int height = std::clamp(m_options.height, 1, k_max_side);
    ImageResult result;
    result.simulated_latency = latency;
    result.data = encode_png_rgb(width, height,
                                 synthetic_pixels(request.prompt, request.variant, width, height));
    if (result.data.empty()) {
        return util::error(util::Code::internal, "dry_run: cannot encode a " +
                                                     std::to_string(width) + "x" +
                                                     std::to_string(height) + " PNG");
    }
    result.mime_type = "image/png";
    result.model_version = "dry-run";
    auto prompt_bytes = static_cast<std::int64_t>(request.prompt.size());
    result.usage.prompt_tokens =
        (prompt_bytes + k_prompt_bytes_per_token - 1) / k_prompt_bytes_per_token +
        k_prompt_tokens_per_ref * static_cast<std::int64_t>(request.refs.size());
    // The catalog's tokens for the model and size when the runner says them (a dry run of
    // gemini-3.1-flash-image at 1K bills 1120, not the 2.5 model's 1290, which would overrun
    // the ceiling); the 2.5 figure otherwise.
    result.usage.output_tokens =
        request.image_tokens > 0 ? request.image_tokens : k_output_tokens_per_image;
    result.usage.thoughts_tokens = 0;
    return result;
}

}  // namespace assetgen::provider
