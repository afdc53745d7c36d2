// How this works: generate() is one request and one answer; retries, backoff and rate limits
// belong to the schedule module. The secret (API key or bearer token) goes into a header
// only, never the URL, and every Status that leaves here is scrubbed twice: util::redact for
// anything key-shaped, then a literal replace of the secret itself, so even an echo of it in
// a server's message cannot reach a log. Endpoints:
//   Gemini API: https://ai.google.dev/api/generate-content (x-goog-api-key header)
//   Vertex AI:  https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/inference
//               global endpoint without a region prefix per
//               https://cloud.google.com/vertex-ai/generative-ai/docs/learn/locations

#include "provider/gemini_provider.hpp"
#include "provider/scrub.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include "provider/model_lookup.hpp"
#include "util/text.hpp"

namespace assetgen::provider {
namespace {

using util::Code;
using util::Status;

// Model ids, project ids and locations go into the URL path unescaped, so they must be
// plain: letters, digits, '.', '_', '-'.
bool is_path_safe(const std::string& s) {
    if (s.empty()) {
        return false;
    }
    for (char c : s) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok) {
            return false;
        }
    }
    return true;
}

std::string strip_trailing_slash(std::string s) {
    while (!s.empty() && s.back() == '/') {
        s.pop_back();
    }
    return s;
}

// "models/gemini-2.5-flash-image" and "gemini-2.5-flash-image" name the same model.
std::string bare_model(const std::string& model) {
    constexpr std::string_view k_prefix = "models/";
    return util::starts_with(model, k_prefix) ? model.substr(k_prefix.size()) : model;
}

// Turns an HTTP answer into the result, with secrets scrubbed from any error. Takes the answer
// whole: a 200's image is decoded over its body (parse_gemini_response_in_place).
util::Result<ImageResult> interpret(util::Result<net::HttpResponse>&& sent,
                                    const util::Clock& clock, const std::string& secret) {
    if (!sent.ok()) {
        if (net::is_body_too_large(sent.status())) {
            // The same request would bring the same oversized answer (and be paid again): not
            // retried.
            return scrub(
                Status(Code::model_error,
                       sent.status().message() +
                           ", more than an image of the requested size can need; not retried"),
                secret);
        }
        return scrub(sent.status(), secret);
    }
    net::HttpResponse& response = sent.value();
    if (response.status >= 200 && response.status < 300) {
        auto parsed = parse_gemini_response_in_place(std::move(response.body));
        if (!parsed.ok()) {
            return scrub(parsed.status(), secret);
        }
        return parsed;
    }
    auto now = std::chrono::system_clock::time_point(std::chrono::milliseconds(clock.unix_ms()));
    return scrub(
        parse_gemini_error(response.status, response.body, response.header("retry-after"), now),
        secret);
}

util::Status bad_model(const std::string& api, const std::string& model) {
    return Status(Code::invalid_input, api + ": model \"" + model + "\" is not a plain model id");
}

net::HttpRequest post_json(std::string url, std::string body, std::chrono::milliseconds timeout,
                           std::size_t max_bytes) {
    net::HttpRequest http;
    http.max_response_bytes = max_bytes;
    http.method = "POST";
    http.url = std::move(url);
    http.body = std::move(body);
    http.timeout = timeout;
    http.headers.emplace_back("Content-Type", "application/json");
    return http;
}

net::HttpRequest get(std::string url, std::chrono::milliseconds timeout) {
    net::HttpRequest http;
    http.method = "GET";
    http.url = std::move(url);
    http.timeout = std::min(timeout, std::chrono::milliseconds(60'000));
    http.max_response_bytes = 8u << 20;  // a model list is a few hundred KiB
    return http;
}

// The outcome of a lookup GET that did not answer 200 or 404 (or did not answer at all).
Status lookup_failure(const std::string& call, const util::Result<net::HttpResponse>& sent,
                      const util::Clock& clock, const std::string& secret) {
    if (!sent.ok()) {
        return scrub(lookup_error(call, sent.status()), secret);
    }
    auto now = std::chrono::system_clock::time_point(std::chrono::milliseconds(clock.unix_ms()));
    const auto& r = sent.value();
    return scrub(
        lookup_error(call, parse_gemini_error(r.status, r.body, r.header("retry-after"), now)),
        secret);
}

// The image models a listing names (models.list, or Vertex's publishers.models.list), up to 10
// pages of `url` ("?pageSize=1000[&pageToken=…]" added), each GET carrying `auth` as a header.
// When it cannot say, `note` says why: the listing failed, or `none` when it names no image model.
struct ImageModels {
    std::vector<std::string> listed;
    std::string note;
};
ImageModels list_image_models(net::HttpTransport& transport, const std::string& url,
                              std::pair<std::string, std::string> auth, const std::string& call,
                              std::chrono::milliseconds timeout, const util::Clock& clock,
                              const std::string& secret, const std::string& none) {
    ImageModels out;
    std::string page;
    for (int i = 0; i < 10; ++i) {
        net::HttpRequest list =
            get(url + "?pageSize=1000" + (page.empty() ? "" : "&pageToken=" + page), timeout);
        list.headers.push_back(auth);
        auto answer = transport.send(list);
        if (!answer.ok() || answer->status != 200) {
            out.note =
                call + " failed too: " + lookup_failure(call, answer, clock, secret).message();
            return out;
        }
        auto listing = parse_model_listing(answer->body);
        if (!listing.ok()) {
            out.note = listing.status().message();
            return out;
        }
        out.listed.insert(out.listed.end(), listing->image_models.begin(),
                          listing->image_models.end());
        page = listing->next_page_token;
        if (page.empty() || !is_path_safe(page)) {
            break;
        }
    }
    if (out.listed.empty()) {
        out.note = none;
    }
    return out;
}

}  // namespace

GeminiProvider::GeminiProvider(GeminiOptions options, net::HttpTransport& transport,
                               const util::Clock& clock)
    : m_options(std::move(options)), m_transport(transport), m_clock(clock) {
    m_options.api_base = strip_trailing_slash(m_options.api_base);
}

std::string GeminiProvider::url_for(const std::string& model) const {
    return m_options.api_base + "/" + m_options.api_version + "/models/" + bare_model(model) +
           ":generateContent";
}

util::Result<ImageResult> GeminiProvider::generate(const ImageRequest& request) {
    if (m_options.api_key.empty()) {
        return Status(Code::unauthenticated,
                      "gemini: no API key (set GEMINI_API_KEY or GOOGLE_API_KEY)");
    }
    if (!is_path_safe(bare_model(request.model))) {
        return bad_model("gemini", request.model);
    }
    net::HttpRequest http =
        post_json(url_for(request.model), build_gemini_request(request, m_options.wire),
                  m_options.timeout, max_answer_bytes(request));
    http.headers.emplace_back("x-goog-api-key", m_options.api_key);
    return interpret(m_transport.send(http), m_clock, m_options.api_key);
}

util::Status GeminiProvider::check_model(const std::string& model) {
    if (m_options.api_key.empty()) {
        return Status(Code::unauthenticated,
                      "gemini: no API key (set GEMINI_API_KEY or GOOGLE_API_KEY)");
    }
    const std::string id = bare_model(model);
    if (!is_path_safe(id)) {
        return bad_model("gemini", model);
    }
    const std::string models_url = m_options.api_base + "/" + m_options.api_version + "/models";
    net::HttpRequest http = get(models_url + "/" + id, m_options.timeout);
    http.headers.emplace_back("x-goog-api-key", m_options.api_key);
    auto sent = m_transport.send(http);
    if (sent.ok() && sent->status == 200) {
        return Status();
    }
    if (!sent.ok() || sent->status != 404) {
        return lookup_failure("models.get", sent, m_clock, m_options.api_key);
    }
    // The model is unknown: say which image models this key can use instead.
    const ImageModels images =
        list_image_models(m_transport, models_url, {"x-goog-api-key", m_options.api_key},
                          "models.list", m_options.timeout, m_clock, m_options.api_key,
                          "models.list names no image model for this key");
    return scrub(unknown_model("gemini", id, "models.get answered 404 at " + models_url + "/" + id,
                               images.listed, images.note),
                 m_options.api_key);
}

std::size_t max_answer_bytes(const ImageRequest& request) {
    constexpr std::size_t k_mib = 1u << 20;
    if (request.image_size == "4K") {
        return 96 * k_mib;  // 4096x4096x3 raw = 48 MiB; base64 of a stored PNG ~ 64 MiB
    }
    if (request.image_size == "2K") {
        return 32 * k_mib;  // 2048x2048x3 raw = 12 MiB; base64 ~ 16 MiB
    }
    return 16 * k_mib;  // 1K class (up to 1536x672 or 1024x1024): base64 < 5 MiB
}

std::string vertex_default_base(const std::string& location) {
    if (location == "global") {
        return "https://aiplatform.googleapis.com";
    }
    if (location == "us" || location == "eu") {
        return "https://aiplatform." + location + ".rep.googleapis.com";
    }
    return "https://" + location + "-aiplatform.googleapis.com";
}

VertexProvider::VertexProvider(VertexOptions options, net::HttpTransport& transport,
                               auth::TokenSource& tokens, const util::Clock& clock)
    : m_options(std::move(options)), m_transport(transport), m_tokens(tokens), m_clock(clock) {
    m_options.api_base = strip_trailing_slash(
        m_options.api_base.empty() ? vertex_default_base(m_options.location) : m_options.api_base);
}

util::Status VertexProvider::check_model(const std::string& model) {
    const std::string id = bare_model(model);
    if (!is_path_safe(id)) {
        return bad_model("vertex", model);
    }
    auto token = m_tokens.token();
    if (!token.ok()) {
        return scrub(token.status(), "");
    }
    const std::string url =
        m_options.api_base + "/" + m_options.api_version + "/publishers/google/models/" + id;
    net::HttpRequest http = get(url, m_options.timeout);
    http.headers.emplace_back("Authorization", "Bearer " + token.value());
    auto sent = m_transport.send(http);
    if (sent.ok() && sent->status == 200) {
        return Status();
    }
    if (!sent.ok() || sent->status != 404) {
        return lookup_failure("publishers.models.get", sent, m_clock, token.value());
    }
    // The model is unknown: list the publisher's image models (publishers.models.list, which
    // only v1beta1 has:
    // https://cloud.google.com/vertex-ai/docs/reference/rest/v1beta1/publishers.models/list).
    const ImageModels images = list_image_models(
        m_transport, m_options.api_base + "/v1beta1/publishers/google/models",
        {"Authorization", "Bearer " + token.value()}, "publishers.models.list", m_options.timeout,
        m_clock, token.value(),
        "publishers.models.list names no image model; see the Model Garden for your location");
    return scrub(unknown_model("vertex", id, "the publisher model GET answered 404 at " + url,
                               images.listed, images.note),
                 token.value());
}

std::string VertexProvider::url_for(const std::string& model) const {
    return m_options.api_base + "/" + m_options.api_version + "/projects/" + m_options.project +
           "/locations/" + m_options.location + "/publishers/google/models/" + bare_model(model) +
           ":generateContent";
}

util::Result<ImageResult> VertexProvider::generate(const ImageRequest& request) {
    if (!is_path_safe(m_options.project)) {
        return Status(Code::config,
                      "vertex: project \"" + m_options.project + "\" is not a valid project id");
    }
    if (!is_path_safe(m_options.location)) {
        return Status(Code::config,
                      "vertex: location \"" + m_options.location + "\" is not a valid location");
    }
    if (!is_path_safe(bare_model(request.model))) {
        return bad_model("vertex", request.model);
    }
    auto token = m_tokens.token();
    if (!token.ok()) {
        return scrub(token.status(), "");
    }
    net::HttpRequest http =
        post_json(url_for(request.model), build_gemini_request(request, m_options.wire),
                  m_options.timeout, max_answer_bytes(request));
    http.headers.emplace_back("Authorization", "Bearer " + token.value());
    return interpret(m_transport.send(http), m_clock, token.value());
}

}  // namespace assetgen::provider
