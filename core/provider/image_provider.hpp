#pragma once
// The model seam: one request makes one image. Implementations: the dry-run provider
// (synthetic PNGs, simulated latency and faults), the Gemini API and Vertex AI.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "util/status.hpp"

namespace assetgen::provider {

struct RefImage {
    std::string mime_type;  // image/png, image/jpeg, image/webp, image/heic, image/heif
    std::string data;       // raw bytes (base64 is the wire's business)
};

struct ImageRequest {
    std::string model;         // e.g. "gemini-2.5-flash-image"
    std::string prompt;        // the row's prompt with the ref_mode instruction already added
    std::string scene_id;      // for logs and for the dry run's determinism
    int variant = 1;           // 1-based
    int attempt = 1;           // 1-based attempt number of this request
    std::string aspect_ratio;  // "" = model default
    std::string image_size;    // "" = model default; "1K", "2K", "4K"
    std::vector<RefImage> refs;
    // The hard ceiling the budget reserved for (budget::RequestCeiling): sent as
    // generationConfig.maxOutputTokens (0 = not sent) and thinkingConfig.thinkingLevel ("" =
    // not sent), so the API cannot bill more output than was reserved.
    std::int64_t max_output_tokens = 0;
    std::string thinking_level;
    // Output tokens of one image of this model and size (the catalog's); 0 = unknown. Not sent:
    // the dry run reports it as its usage.
    std::int64_t image_tokens = 0;
};

// Token counts from usageMetadata; cost is computed by the budget module from these. A failed
// answer that was billed carries its counts in Status::usage().
using Usage = util::TokenUsage;

struct ImageResult {
    std::string data;       // raw image bytes
    std::string mime_type;  // e.g. image/png
    Usage usage;
    std::string model_version;
    // A simulated model's own latency (the dry run): what the request "took" by design. When
    // set it is the latency recorded, not the wall time around the call, which a loaded machine
    // stretches; so a dry run with a fixed --simulate seed gives the same latencies every time
    // and canary comparisons of two dry runs are reproducible.
    std::optional<std::chrono::milliseconds> simulated_latency;
};

class ImageProvider {
public:
    virtual ~ImageProvider() = default;
    // Makes one image. Errors: BLOCKED (safety; message holds the reason, e.g. "IMAGE_SAFETY"),
    // with usage() set when the answer said what it billed (so do MODEL_ERROR for an answer
    // without an image and BAD_RESPONSE for undecodable image data),
    // transient codes (MODEL_RATE_LIMIT, MODEL_UNAVAILABLE, TIMEOUT, BAD_RESPONSE; with a
    // retry_after hint when the server gave one), AUTH_FAILED, PERMISSION_DENIED, NOT_FOUND,
    // MODEL_ERROR. Must be safe to call from several threads at once.
    virtual util::Result<ImageResult> generate(const ImageRequest& request) = 0;
    // Asks the API whether `model` exists, before anything is spent (the Gemini API's
    // models.get, Vertex AI's publisher model). ok when it does, or when there is no API to ask
    // (the dry run). CONFIG_ERROR when the API answers 404 (the message lists the image models
    // the API offers, where it can list them); other failures keep the codes of generate()
    // (transient ones may be retried; AUTH_FAILED, PERMISSION_DENIED are not).
    virtual util::Status check_model(const std::string& model) {
        (void)model;
        return util::ok_status();
    }
};

}  // namespace assetgen::provider
