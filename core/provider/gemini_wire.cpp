// How this works: requests are built with nlohmann::json in camelCase (the form the Vertex AI
// reference shows; the Gemini API's proto-JSON parser accepts camelCase and snake_case alike).
// Answers are parsed without exceptions (parse(..., allow_exceptions=false)) and read through
// small accessors that check types, so a well-formed answer of an unexpected shape becomes
// BAD_RESPONSE or MODEL_ERROR, never a crash. Both spellings are read (inlineData and
// inline_data, mimeType and mime_type) because proto-JSON emitters may use either.
//
// Outcome of a 200 answer, in this order:
//   1. not JSON / not an object                         → BAD_RESPONSE (transient: a cut body)
//   2. promptFeedback.blockReason set                   → BLOCKED "<reason>: prompt blocked"
//   3. no candidates                                    → BAD_RESPONSE
//   4. finishReason is a policy block (k_block_reasons) → BLOCKED "<finishReason>"
//   5. a non-thought image part                         → the image (the last one)
//   6. otherwise                                        → MODEL_ERROR with the finishReason
// A failure in 2, 3, 4 or 6 (and undecodable image data) carries the answer's usageMetadata as
// Status::usage(): Google bills a refused or imageless answer its prompt and thoughts.
// NO_IMAGE is counted as a block because DESIGN.md §5 names it with the safety reasons (the
// row ends BLOCKED, not retried); IMAGE_OTHER, OTHER, MAX_TOKENS, LANGUAGE and STOP without an
// image are MODEL_ERROR ("the model answered without an image").

#include "provider/gemini_wire.hpp"
#include "provider/gemini_wire_detail.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>

#include <nlohmann/json.hpp>

#include "net/http_status.hpp"
#include "provider/quota_failure.hpp"
#include "util/base64.hpp"
#include "util/text.hpp"
#include "util/utf8.hpp"

namespace assetgen::provider {
namespace {

using nlohmann::json;
using util::Code;
using util::Status;

constexpr std::size_t k_max_message = 400;

// Finish reasons that mean "refused by policy" (https://ai.google.dev/api/generate-content
// FinishReason; Vertex AI's list is the same for these), plus NO_IMAGE (see above).
constexpr std::array<std::string_view, 9> k_block_reasons = {
    "SAFETY",
    "RECITATION",
    "BLOCKLIST",
    "PROHIBITED_CONTENT",
    "SPII",
    "IMAGE_SAFETY",
    "IMAGE_PROHIBITED_CONTENT",
    "IMAGE_RECITATION",
    "NO_IMAGE",
};

bool is_block_reason(std::string_view reason) {
    return std::find(k_block_reasons.begin(), k_block_reasons.end(), reason) !=
           k_block_reasons.end();
}

// The member `name` of an object, or nullptr when absent or not an object.
const json* member(const json& object, std::string_view name) {
    if (!object.is_object()) {
        return nullptr;
    }
    auto it = object.find(name);
    return it == object.end() ? nullptr : &*it;
}

// The first present member among camelCase and snake_case spellings.
const json* member2(const json& object, std::string_view camel, std::string_view snake) {
    const json* v = member(object, camel);
    return v != nullptr ? v : member(object, snake);
}

std::string string_of(const json* v) {
    return (v != nullptr && v->is_string()) ? v->get<std::string>() : std::string();
}

// proto-JSON writes int32 as numbers and int64 as strings; accept both, as they are (see
// detail::k_not_a_count).
std::int64_t int_of(const json* v) {
    if (v == nullptr || v->is_null()) {
        return 0;
    }
    if (v->is_number_unsigned()) {
        return static_cast<std::int64_t>(std::min<std::uint64_t>(
            v->get<std::uint64_t>(), std::numeric_limits<std::int64_t>::max()));
    }
    if (v->is_number_integer()) {
        return v->get<std::int64_t>();
    }
    if (v->is_number_float()) {
        return detail::count_of_double(v->get<double>());
    }
    if (v->is_string()) {
        return detail::count_of_string(v->get_ref<const std::string&>());
    }
    return detail::k_not_a_count;
}

// Google's text, safe for a log line: redacted, one line, bounded.
std::string clean_text(std::string_view text) {
    std::string out = util::redact(text);
    std::replace(out.begin(), out.end(), '\n', ' ');
    std::replace(out.begin(), out.end(), '\r', ' ');
    // Google's text is not checked as UTF-8 (a non-JSON body is taken as it is), and the cut
    // may fall inside a character; the message ends up in JSON files.
    return std::string(util::trim(util::utf8_clean(out, k_max_message)));
}

Status bad_response(std::string what) {
    return Status(Code::bad_response, "generateContent: " + std::move(what));
}

// Decodes inline image data; proto-JSON bytes may use either base64 alphabet.
util::Result<std::string> decode_data(std::string_view data) {
    auto standard = util::base64_decode(data);
    if (standard.ok()) {
        return standard;
    }
    return util::base64url_decode(data);
}

bool has_usage(const json& root) {
    const json* meta = member2(root, "usageMetadata", "usage_metadata");
    return meta != nullptr && meta->is_object();
}

Usage usage_of(const json& root);

// A failed answer's Status with what it was billed, when the answer says (usageMetadata):
// Google bills the prompt and the thoughts of a blocked or imageless answer too.
Status billed(Status s, const json& root) {
    if (has_usage(root)) {
        s.with_usage(usage_of(root));
    }
    return s;
}

Usage usage_of(const json& root) {
    Usage u;
    const json* meta = member2(root, "usageMetadata", "usage_metadata");
    if (meta != nullptr) {
        u.prompt_tokens = int_of(member2(*meta, "promptTokenCount", "prompt_token_count"));
        u.output_tokens = int_of(member2(*meta, "candidatesTokenCount", "candidates_token_count"));
        u.thoughts_tokens = int_of(member2(*meta, "thoughtsTokenCount", "thoughts_token_count"));
        const json* details =
            member2(*meta, "candidatesTokensDetails", "candidates_tokens_details");
        if (details != nullptr && details->is_array()) {
            u.output_image_tokens = 0;
            for (const json& d : *details) {
                if (string_of(member(d, "modality")) == "IMAGE") {
                    u.output_image_tokens = detail::add_counts(
                        u.output_image_tokens, int_of(member2(d, "tokenCount", "token_count")));
                }
            }
        }
    }
    return u;
}

// Days since 1970-01-01 of a civil date (proleptic Gregorian).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2 ? 1 : 0;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

// "Sun, 06 Nov 1994 08:49:37 GMT" → Unix seconds.
std::optional<std::int64_t> parse_http_date(std::string_view text) {
    static constexpr std::array<const char*, 12> k_months = {
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    std::string s(text);
    char weekday[4] = {};
    char month[4] = {};
    int day = 0;
    int year = 0;
    int hh = 0;
    int mm = 0;
    int ss = 0;
    int consumed = 0;
    // Field widths as IMF-fixdate has them, so that no number can overflow an int (a year of
    // 19 digits did, and then the seconds * 1000 did too; found by fuzzing).
    if (std::sscanf(s.c_str(), "%3s, %2d %3s %4d %2d:%2d:%2d GMT%n", weekday, &day, month, &year,
                    &hh, &mm, &ss, &consumed) != 7 ||
        static_cast<std::size_t>(consumed) != s.size() || year < 1900) {
        return std::nullopt;
    }
    unsigned m = 0;
    for (unsigned i = 0; i < k_months.size(); ++i) {
        if (std::strcmp(month, k_months[i]) == 0) {
            m = i + 1;
        }
    }
    if (m == 0 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60 || hh < 0 || mm < 0 ||
        ss < 0) {
        return std::nullopt;
    }
    return days_from_civil(year, m, static_cast<unsigned>(day)) * 86400 + hh * 3600 + mm * 60 + ss;
}

// Fractional seconds "12" / "12.345" → milliseconds rounded up; nullopt when malformed.
std::optional<std::chrono::milliseconds> seconds_text_to_ms(std::string_view t) {
    if (t.empty()) {
        return std::nullopt;
    }
    std::int64_t whole = 0;
    std::int64_t nanos = 0;
    std::size_t i = 0;
    std::size_t digits = 0;
    for (; i < t.size() && t[i] >= '0' && t[i] <= '9'; ++i, ++digits) {
        if (whole > 1'000'000'000'000LL) {
            return std::nullopt;
        }
        whole = whole * 10 + (t[i] - '0');
    }
    if (i < t.size() && t[i] == '.') {
        ++i;
        std::size_t frac_digits = 0;
        for (; i < t.size() && t[i] >= '0' && t[i] <= '9'; ++i, ++frac_digits) {
            if (frac_digits < 9) {
                nanos = nanos * 10 + (t[i] - '0');
            }
        }
        if (frac_digits == 0 && digits == 0) {
            return std::nullopt;
        }
        for (std::size_t k = std::min<std::size_t>(frac_digits, 9); k < 9; ++k) {
            nanos *= 10;
        }
    } else if (digits == 0) {
        return std::nullopt;
    }
    if (i != t.size()) {
        return std::nullopt;
    }
    return std::chrono::milliseconds(whole * 1000 + (nanos + 999'999) / 1'000'000);
}

// Reads what an error body says; tolerant of non-JSON bodies (proxies answer HTML).
struct ErrorBody {
    bool json = false;
    QuotaDetails quota;  // status, message, ErrorInfo.reason, QuotaFailure, RetryInfo
};

ErrorBody read_error_body(std::string_view body) {
    ErrorBody out;
    json root = json::parse(body.begin(), body.end(), nullptr, false);
    if (root.is_array() && !root.empty()) {  // streaming endpoints wrap it in an array
        json first = root.front();
        root = std::move(first);
    }
    const json* error = member(root, "error");
    if (error == nullptr || !error->is_object()) {
        return out;
    }
    out.json = true;
    QuotaDetails& q = out.quota;
    q.status = string_of(member(*error, "status"));
    q.message = string_of(member(*error, "message"));
    const json* details = member(*error, "details");
    if (details == nullptr || !details->is_array()) {
        return out;
    }
    constexpr std::size_t k_max_violations = 16;  // a hostile body may list millions
    for (const json& d : *details) {
        std::string type = string_of(member(d, "@type"));
        if (type.ends_with("google.rpc.RetryInfo")) {
            auto delay = parse_proto_duration(string_of(member2(d, "retryDelay", "retry_delay")));
            if (delay && (!q.retry_delay || *delay > *q.retry_delay)) {
                q.retry_delay = delay;
            }
        } else if (type.ends_with("google.rpc.ErrorInfo") && q.reason.empty()) {
            q.reason = string_of(member(d, "reason"));
        } else if (type.ends_with("google.rpc.QuotaFailure")) {
            const json* violations = member(d, "violations");
            if (violations == nullptr || !violations->is_array()) {
                continue;
            }
            for (const json& v : *violations) {
                if (q.violations.size() >= k_max_violations) {
                    break;
                }
                QuotaViolation qv;
                qv.quota_id = string_of(member2(v, "quotaId", "quota_id"));
                qv.quota_metric = string_of(member2(v, "quotaMetric", "quota_metric"));
                const json* value = member2(v, "quotaValue", "quota_value");
                qv.quota_value = (value != nullptr && value->is_number_integer())
                                     ? std::to_string(int_of(value))
                                     : string_of(value);
                q.violations.push_back(std::move(qv));
            }
        }
    }
    return out;
}

// The violation that decided the classification (the first of its kind), for the message.
const QuotaViolation* telling_violation(const QuotaDetails& q, Code code) {
    for (const QuotaViolation& v : q.violations) {
        QuotaDetails one;
        one.violations.push_back(v);
        if (classify_quota(one) == code) {
            return &v;
        }
    }
    return q.violations.empty() ? nullptr : &q.violations.front();
}

}  // namespace

namespace detail {
std::string clean_text(std::string_view text) {
    return assetgen::provider::clean_text(text);
}
bool is_block_reason(std::string_view reason) {
    return assetgen::provider::is_block_reason(reason);
}
util::Result<std::string> decode_image_data(std::string_view data) {
    return decode_data(data);
}
std::int64_t count_of_double(double d) {
    constexpr double two63 = 9223372036854775808.0;
    if (!std::isfinite(d) || d != std::floor(d)) {
        return k_not_a_count;
    }
    if (d >= two63) {
        return std::numeric_limits<std::int64_t>::max();
    }
    // -2^63 itself would read as k_not_a_count; one above it is as negative for the pricing.
    return d <= -two63 ? std::numeric_limits<std::int64_t>::min() + 1
                       : static_cast<std::int64_t>(d);
}
std::int64_t count_of_string(std::string_view s) {
    const bool negative = !s.empty() && s.front() == '-';
    if (negative) {
        s.remove_prefix(1);
    }
    if (s.empty()) {
        return k_not_a_count;
    }
    constexpr std::int64_t max = std::numeric_limits<std::int64_t>::max();
    std::int64_t n = 0;
    for (char c : s) {
        if (c < '0' || c > '9') {
            return k_not_a_count;
        }
        const int digit = c - '0';
        n = n > (max - digit) / 10 ? max : n * 10 + digit;
    }
    return negative ? -n : n;
}
std::int64_t add_counts(std::int64_t a, std::int64_t b) {
    if (a == k_not_a_count || b == k_not_a_count) {
        return k_not_a_count;
    }
    std::int64_t sum = 0;
    if (__builtin_add_overflow(a, b, &sum)) {
        return a > 0 ? std::numeric_limits<std::int64_t>::max()
                     : std::numeric_limits<std::int64_t>::min() + 1;
    }
    return sum;
}
}  // namespace detail

std::string build_gemini_request(const ImageRequest& request, const GeminiWireOptions& options) {
    json parts = json::array();
    parts.push_back({{"text", request.prompt}});
    for (const RefImage& ref : request.refs) {
        parts.push_back({{"inlineData",
                          {{"mimeType", ref.mime_type}, {"data", util::base64_encode(ref.data)}}}});
    }
    json generation = {
        {"responseModalities",
         options.image_only ? json::array({"IMAGE"}) : json::array({"TEXT", "IMAGE"})},
    };
    json image_config = json::object();
    if (!request.aspect_ratio.empty()) {
        image_config["aspectRatio"] = request.aspect_ratio;
    }
    if (!request.image_size.empty()) {
        image_config["imageSize"] = request.image_size;
    }
    if (!image_config.empty()) {
        generation["imageConfig"] = std::move(image_config);
    }
    if (request.max_output_tokens > 0) {
        // Thoughts count against it too: the one cap the API applies to what it bills.
        generation["maxOutputTokens"] = request.max_output_tokens;
    }
    if (!request.thinking_level.empty()) {
        generation["thinkingConfig"] = {{"thinkingLevel", request.thinking_level},
                                        {"includeThoughts", false}};
    }
    json body = {
        {"contents", json::array({{{"role", "user"}, {"parts", std::move(parts)}}})},
        {"generationConfig", std::move(generation)},
    };
    if (!options.service_tier.empty()) {
        body["service_tier"] = options.service_tier;  // top level of the request body
    }
    return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

util::Result<ImageResult> parse_gemini_response_dom(std::string_view body) {
    json root = json::parse(body.begin(), body.end(), nullptr, false);
    if (root.is_discarded()) {
        return bad_response("the answer is not valid JSON (" + std::to_string(body.size()) +
                            " bytes)");
    }
    if (!root.is_object()) {
        return bad_response("the answer is not a JSON object");
    }
    if (const json* feedback = member2(root, "promptFeedback", "prompt_feedback")) {
        std::string reason = string_of(member2(*feedback, "blockReason", "block_reason"));
        if (!reason.empty()) {
            std::string message = reason + ": prompt blocked";
            std::string detail =
                string_of(member2(*feedback, "blockReasonMessage", "block_reason_message"));
            if (!detail.empty()) {
                message += " \"" + clean_text(detail) + "\"";
            }
            return billed(Status(Code::blocked, message).with_http_status(200), root);
        }
    }
    const json* candidates = member(root, "candidates");
    if (candidates == nullptr || !candidates->is_array() || candidates->empty()) {
        return billed(bad_response("the answer has no candidates and no block reason"), root);
    }
    const json& candidate = candidates->front();
    std::string finish = string_of(member2(candidate, "finishReason", "finish_reason"));
    std::string finish_message = string_of(member2(candidate, "finishMessage", "finish_message"));
    if (is_block_reason(finish)) {
        std::string message = finish;
        if (!finish_message.empty()) {
            message += ": \"" + clean_text(finish_message) + "\"";
        }
        return billed(Status(Code::blocked, message).with_http_status(200), root);
    }

    const json* image = nullptr;
    std::string text;
    const json* content = member(candidate, "content");
    const json* parts = content != nullptr ? member(*content, "parts") : nullptr;
    if (parts != nullptr && parts->is_array()) {
        for (const json& part : *parts) {
            const json* thought = member(part, "thought");
            if (thought != nullptr && thought->is_boolean() && thought->get<bool>()) {
                continue;  // interim "thought" images are not outputs
            }
            const json* inline_data = member2(part, "inlineData", "inline_data");
            if (inline_data != nullptr &&
                util::starts_with(string_of(member2(*inline_data, "mimeType", "mime_type")),
                                  "image/")) {
                image = inline_data;
            } else if (const json* t = member(part, "text");
                       t != nullptr && t->is_string() && text.empty()) {
                text = t->get<std::string>();
            }
        }
    }
    if (image == nullptr) {
        std::string message =
            "no image in the answer (finishReason " + (finish.empty() ? "unset" : finish) + ")";
        if (!finish_message.empty()) {
            message += ": \"" + clean_text(finish_message) + "\"";
        } else if (!text.empty()) {
            message += ": model said \"" + clean_text(text) + "\"";
        }
        return billed(Status(Code::model_error, message).with_http_status(200), root);
    }

    ImageResult result;
    result.mime_type = string_of(member2(*image, "mimeType", "mime_type"));
    auto bytes = decode_data(string_of(member(*image, "data")));
    if (!bytes.ok() || bytes->empty()) {
        return billed(bad_response("the image part of type \"" + result.mime_type +
                                   "\" has no valid base64 data"),
                      root);
    }
    result.data = std::move(bytes).value();
    result.usage = usage_of(root);
    result.model_version = string_of(member2(root, "modelVersion", "model_version"));
    return result;
}

util::Code code_for_http_status(int http_status) {
    // A status the table does not name (400 above all) is the model refusing the request.
    return net::code_for_http_status(http_status, Code::model_error);
}

util::Status parse_gemini_error(int http_status, std::string_view body,
                                std::string_view retry_after_header,
                                std::chrono::system_clock::time_point now) {
    ErrorBody e = read_error_body(body);
    const QuotaDetails& q = e.quota;
    Code code = code_for_http_status(http_status);
    // A bad key answers 400 INVALID_ARGUMENT with ErrorInfo.reason API_KEY_INVALID
    // (https://ai.google.dev/gemini-api/docs/troubleshooting); it is an auth failure.
    if (q.reason == "API_KEY_INVALID" || q.reason == "API_KEY_EXPIRED" ||
        q.reason == "ACCESS_TOKEN_EXPIRED" || q.reason == "CREDENTIALS_MISSING" ||
        q.status == "UNAUTHENTICATED" ||
        (http_status == 400 && q.message.find("API key not valid") != std::string::npos)) {
        code = Code::unauthenticated;
    }
    // A 429 is a per-minute limit (retried), a per-day quota, a spend-based limit or a billing
    // cap (the run stops); see quota_failure.cpp.
    if (http_status == 429 && e.json) {
        code = classify_quota(q);
    }

    std::string message = "generateContent: HTTP " + std::to_string(http_status);
    if (!q.status.empty()) {
        message += " " + q.status;
    }
    if (!q.reason.empty()) {
        message += " (" + clean_text(q.reason) + ")";
    }
    if (const QuotaViolation* v = telling_violation(q, code); v != nullptr) {
        if (!v->quota_id.empty()) {
            message += " quota \"" + clean_text(v->quota_id) + "\"";
        }
        if (!v->quota_metric.empty()) {
            message += " metric \"" + clean_text(v->quota_metric) + "\"";
        }
        if (!v->quota_value.empty()) {
            message += " limit " + clean_text(v->quota_value);
        }
    }
    if (e.json && !q.message.empty()) {
        message += ": \"" + clean_text(q.message) + "\"";
    } else if (!e.json && !body.empty()) {
        message += ": body \"" + clean_text(body.substr(0, 200)) + "\"";
    }

    Status status(code, message);
    status.with_http_status(http_status);
    std::optional<std::chrono::milliseconds> hint = q.retry_delay;
    if (!retry_after_header.empty()) {
        auto header = parse_retry_after(retry_after_header, now);
        if (header && (!hint || *header > *hint)) {
            hint = header;
        }
    }
    if (hint) {
        status.with_retry_after(*hint);
    }
    return status;
}

std::optional<std::chrono::milliseconds> parse_proto_duration(std::string_view text) {
    text = util::trim(text);
    if (text.size() < 2 || text.back() != 's') {
        return std::nullopt;
    }
    return seconds_text_to_ms(text.substr(0, text.size() - 1));
}

std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now) {
    value = util::trim(value);
    if (auto delta = seconds_text_to_ms(value)) {
        return delta;
    }
    auto date = parse_http_date(value);
    if (!date) {
        return std::nullopt;
    }
    auto now_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    return std::chrono::milliseconds(std::max<std::int64_t>(0, *date * 1000 - now_ms));
}

}  // namespace assetgen::provider
