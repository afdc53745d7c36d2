#pragma once
// The generateContent wire format of the Gemini API and Vertex AI as pure functions: the
// request body for one ImageRequest, the reading of a 200 answer, and the mapping of an error
// answer (google.rpc.Status JSON, HTTP status, Retry-After) to a Status. No I/O here; the
// providers in gemini_provider.hpp add URLs, headers and the transport.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "provider/image_provider.hpp"
#include "util/status.hpp"

namespace assetgen::provider {

struct GeminiWireOptions {
    // true: responseModalities ["IMAGE"] (image only; no text part is paid for or parsed);
    // false: ["TEXT","IMAGE"], the API's default for image models.
    bool image_only = true;
    // The inference tier sent as the body's "service_tier" ("flex", "priority"); "" = not
    // sent, which the API reads as standard (flex-inference and priority-inference pages:
    // "set the service_tier field in the request body"; read 2026-12-06).
    std::string service_tier;
};

// The JSON body of a generateContent request: one user turn whose parts are the prompt text,
// then each reference as inlineData (base64); generationConfig with responseModalities and,
// only when set, imageConfig.aspectRatio / imageConfig.imageSize, maxOutputTokens and
// thinkingConfig (thinkingLevel, includeThoughts false). Never sets candidateCount.
// The same body serves the Gemini API and Vertex AI. Never fails (invalid UTF-8 in the
// prompt is replaced by U+FFFD).
std::string build_gemini_request(const ImageRequest& request,
                                 const GeminiWireOptions& options = {});

// Reads the body of an HTTP 200 generateContent answer. Returns the last non-thought image
// part with usage and modelVersion. Errors: BLOCKED (message starts with the reason, e.g.
// "IMAGE_SAFETY" or "SAFETY: prompt blocked"), MODEL_ERROR (the model gave no image for a
// reason other than a block), BAD_RESPONSE (malformed or truncated JSON, no candidates,
// undecodable image data). A failure of an answer with usageMetadata carries it as
// Status::usage() (what the refusal was billed).
util::Result<ImageResult> parse_gemini_response(std::string_view body);
// The same reading of a body the caller gives up (moved from, whatever the outcome): the image
// is decoded in place over the body's own base64 and handed back in its buffer, so a ~2 MB
// answer needs that one buffer, not a second one for its 1.5 MB image (peak RSS at high
// concurrency, issue 18). Same results as parse_gemini_response.
util::Result<ImageResult> parse_gemini_response_in_place(std::string&& body);
// The same reading through a whole nlohmann::json DOM: the reference the fast reader above
// (gemini_answer.cpp, a JsonView of the answer) is tested and fuzzed against. Same results.
util::Result<ImageResult> parse_gemini_response_dom(std::string_view body);

// Maps a non-200 answer to a Status carrying the HTTP status and, when the server gave one,
// the longer of RetryInfo.retryDelay and Retry-After as retry_after. The message keeps
// Google's error text (redacted, shortened). `now` is used only for an HTTP-date Retry-After.
util::Status parse_gemini_error(int http_status, std::string_view body,
                                std::string_view retry_after_header,
                                std::chrono::system_clock::time_point now);

// The Code for an HTTP status as the Gemini API and Vertex AI use them (400 MODEL_ERROR,
// 401 AUTH_FAILED, 403 PERMISSION_DENIED, 404 NOT_FOUND, 408/504 TIMEOUT, 429
// MODEL_RATE_LIMIT, other 5xx MODEL_UNAVAILABLE, ...). Never returns Code::ok.
util::Code code_for_http_status(int http_status);

// Parses a google.protobuf.Duration in JSON form ("45.8s", "0.5s", "30s"), rounded up to
// whole milliseconds. std::nullopt when malformed or negative.
std::optional<std::chrono::milliseconds> parse_proto_duration(std::string_view text);

// Parses a Retry-After header value: delta-seconds (fractions tolerated) or an IMF-fixdate
// HTTP-date relative to `now` (a date in the past gives 0). std::nullopt when malformed.
std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now);

}  // namespace assetgen::provider
