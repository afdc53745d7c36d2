#pragma once
// ImageProviders for Google's image models over generateContent: GeminiProvider (Gemini
// Developer API, API key in the x-goog-api-key header) and VertexProvider (Vertex AI, OAuth
// bearer token from a TokenSource). Both send the same body (gemini_wire.hpp) through an
// HttpTransport; both are thread-safe (no mutable state; transport and token source are).

#include <chrono>
#include <string>

#include "auth/token_source.hpp"
#include "net/http.hpp"
#include "provider/gemini_wire.hpp"
#include "provider/image_provider.hpp"
#include "util/clock.hpp"

namespace assetgen::provider {

struct GeminiOptions {
    std::string api_key;  // sent only as the x-goog-api-key header; never logged
    std::string api_base = "https://generativelanguage.googleapis.com";  // --api-base
    std::string api_version = "v1beta";
    std::chrono::milliseconds timeout{300'000};  // per request (image models may take minutes)
    GeminiWireOptions wire;
};

// POST {api_base}/{api_version}/models/{model}:generateContent.
class GeminiProvider final : public ImageProvider {
public:
    // The clock is read only to interpret an HTTP-date Retry-After.
    GeminiProvider(GeminiOptions options, net::HttpTransport& transport,
                   const util::Clock& clock = util::system_clock());
    // See ImageProvider::generate. Also AUTH_FAILED when no API key is set, INVALID_INPUT for
    // a model name that is not a plain identifier. Transport failures pass through unchanged.
    util::Result<ImageResult> generate(const ImageRequest& request) override;
    // models.get (GET {api_base}/{api_version}/models/{model}); on a 404, models.list (up to 10
    // pages of 1000) names the image models the key can use. See ImageProvider::check_model.
    util::Status check_model(const std::string& model) override;
    // The URL a request for `model` goes to (it never holds the key).
    std::string url_for(const std::string& model) const;

private:
    GeminiOptions m_options;
    net::HttpTransport& m_transport;
    const util::Clock& m_clock;
};

struct VertexOptions {
    std::string project;              // Google Cloud project id
    std::string location = "global";  // "global", a region like "us-central1", or "us"/"eu"
    // "" = the documented endpoint for the location: https://aiplatform.googleapis.com for
    // global, https://aiplatform.{us|eu}.rep.googleapis.com for the multi-regions, else
    // https://{location}-aiplatform.googleapis.com.
    std::string api_base;
    std::string api_version = "v1";
    std::chrono::milliseconds timeout{300'000};
    GeminiWireOptions wire;
};

// POST {base}/{api_version}/projects/{project}/locations/{location}/publishers/google/models/
// {model}:generateContent with Authorization: Bearer <token>.
class VertexProvider final : public ImageProvider {
public:
    VertexProvider(VertexOptions options, net::HttpTransport& transport, auth::TokenSource& tokens,
                   const util::Clock& clock = util::system_clock());
    // See ImageProvider::generate. Also CONFIG_ERROR for a missing or malformed project or
    // location, INVALID_INPUT for a malformed model name; token failures pass through.
    util::Result<ImageResult> generate(const ImageRequest& request) override;
    // The publisher model (GET {base}/{api_version}/publishers/google/models/{model}); a 404 is
    // CONFIG_ERROR without a list. See ImageProvider::check_model.
    util::Status check_model(const std::string& model) override;
    // The URL a request for `model` goes to.
    std::string url_for(const std::string& model) const;

private:
    VertexOptions m_options;
    net::HttpTransport& m_transport;
    auth::TokenSource& m_tokens;
    const util::Clock& m_clock;
};

// The largest answer accepted for a request, by the image size it asks for: the base64 of
// the largest image the size can produce uncompressed (RGB PNG, 4096x4096 for 4K), with room
// for the JSON around it: 16 MiB up to 1K (and the default), 32 MiB for 2K, 96 MiB for 4K.
// A larger answer is refused as it arrives (at its Content-Length, else at the cap).
std::size_t max_answer_bytes(const ImageRequest& request);

// The default Vertex AI endpoint for a location (see VertexOptions::api_base).
std::string vertex_default_base(const std::string& location);

}  // namespace assetgen::provider
