#pragma once
// The dry-run provider: no network, no money. Returns a real, decodable PNG whose pixels
// derive from prompt and variant, after a simulated latency, with simulated transient faults
// for load tests. All waiting goes through the Clock; all randomness is a stable hash of
// (seed, scene_id, variant, attempt), so a run is reproducible.

#include <chrono>
#include <cstdint>
#include <string>

#include "provider/image_provider.hpp"
#include "util/clock.hpp"

namespace assetgen::provider {

struct SimulateOptions {
    std::chrono::milliseconds latency{0};
    std::chrono::milliseconds jitter{0};  // uniform in [-jitter, +jitter], floored at 0
    double error_rate = 0.0;              // probability that an attempt fails transiently
    std::uint64_t seed = 1;
    int width = 64;  // synthetic image size in pixels
    int height = 64;
};

// Parses "latency=100ms,jitter=20ms,error_rate=0.02,seed=7,size=64x64" (any subset, any
// order). INVALID_INPUT naming the bad key or value.
util::Result<SimulateOptions> parse_simulate(const std::string& spec);

class DryRunProvider final : public ImageProvider {
public:
    DryRunProvider(SimulateOptions options, util::Clock& clock);
    util::Result<ImageResult> generate(const ImageRequest& request) override;

private:
    SimulateOptions m_options;
    util::Clock& m_clock;
};

// Encodes an RGB image (width*height*3 bytes, row-major) as PNG (zlib deflate, CRC per chunk).
// Returns an empty string when the sizes are not positive or do not match rgb.
std::string encode_png_rgb(int width, int height, const std::string& rgb);

}  // namespace assetgen::provider
