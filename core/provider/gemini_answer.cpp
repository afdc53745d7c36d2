// How this works: parse_gemini_response reads a 200 generateContent answer through a JsonView
// (util/json_view.hpp): one validating pass over the body that keeps spans, so the ~2 MB of
// base64 of a real image is never copied into a JSON string; the image part's data is then
// decoded straight from the body into the image's bytes (table-driven, four characters at a
// time; a string holding escapes such as "\/" is unescaped first). parse_gemini_response_in_place
// decodes the image over the body's own bytes instead (util::base64_decode_into: the bytes
// written never overtake the base64 still to read), so a live answer holds one ~2 MB buffer at
// a time, not the body and a 1.5 MB image beside it; what the answer says besides the image
// (usage, model version, MIME type) is read before the body is overwritten. The rules, their order
// and every message are those of parse_gemini_response_dom in gemini_wire.cpp (an nlohmann DOM),
// which stays as the reference: tests/core/provider/gemini_answer_test.cpp compares the two on
// many answer shapes and the fuzz target tests/fuzz/gemini_answer.cpp on any input.

#include <algorithm>
#include <cmath>

#include "provider/gemini_wire.hpp"
#include "provider/gemini_wire_detail.hpp"
#include "util/base64.hpp"
#include "util/json_view.hpp"
#include "util/text.hpp"

namespace assetgen::provider {
namespace {

using util::Code;
using util::JsonNode;
using util::JsonType;
using util::JsonView;
using util::Status;

class Answer {
public:
    explicit Answer(const JsonView& v) : m_v(v) {}

    const JsonNode* member(const JsonNode* object, std::string_view name) const {
        return object == nullptr ? nullptr : m_v.member(*object, name);
    }
    // The first present member among camelCase and snake_case spellings.
    const JsonNode* member2(const JsonNode* object, std::string_view camel,
                            std::string_view snake) const {
        const JsonNode* v = member(object, camel);
        return v != nullptr ? v : member(object, snake);
    }
    std::string string_of(const JsonNode* v) const {
        return (v != nullptr && v->type == JsonType::string) ? m_v.string(*v) : std::string();
    }
    // As gemini_wire.cpp's int_of: numbers and digit strings as they are (detail::k_not_a_count).
    std::int64_t int_of(const JsonNode* v) const {
        if (v == nullptr || v->type == JsonType::null) {
            return 0;
        }
        if (v->type == JsonType::number) {
            const util::JsonNumber n = m_v.number(*v);
            switch (n.kind) {
                case util::JsonNumber::Kind::unsigned_integer:
                    return static_cast<std::int64_t>(
                        std::min<std::uint64_t>(n.u, std::numeric_limits<std::int64_t>::max()));
                case util::JsonNumber::Kind::integer:
                    return n.i;
                case util::JsonNumber::Kind::floating:
                    return detail::count_of_double(n.d);
            }
        }
        if (v->type == JsonType::string) {
            return detail::count_of_string(string_of(v));
        }
        return detail::k_not_a_count;
    }

    bool has_usage(const JsonNode& root) const {
        const JsonNode* meta = member2(&root, "usageMetadata", "usage_metadata");
        return meta != nullptr && meta->type == JsonType::object;
    }

    Usage usage_of(const JsonNode& root) const {
        Usage u;
        const JsonNode* meta = member2(&root, "usageMetadata", "usage_metadata");
        if (meta != nullptr) {
            u.prompt_tokens = int_of(member2(meta, "promptTokenCount", "prompt_token_count"));
            u.output_tokens =
                int_of(member2(meta, "candidatesTokenCount", "candidates_token_count"));
            u.thoughts_tokens = int_of(member2(meta, "thoughtsTokenCount", "thoughts_token_count"));
            const JsonNode* details =
                member2(meta, "candidatesTokensDetails", "candidates_tokens_details");
            if (details != nullptr && details->type == JsonType::array) {
                u.output_image_tokens = 0;
                for (const JsonNode* d = m_v.first(*details); d != nullptr; d = m_v.next(*d)) {
                    if (string_of(member(d, "modality")) == "IMAGE") {
                        u.output_image_tokens = detail::add_counts(
                            u.output_image_tokens, int_of(member2(d, "tokenCount", "token_count")));
                    }
                }
            }
        }
        return u;
    }

    Status billed(Status s, const JsonNode& root) const {
        if (has_usage(root)) {
            s.with_usage(usage_of(root));
        }
        return s;
    }

    // The image data: decoded from the body's bytes, or from the unescaped string when the
    // answer escaped any of it ("\/").
    util::Result<std::string> image_data(const JsonNode* data) const {
        if (data == nullptr || data->type != JsonType::string) {
            return detail::decode_image_data("");
        }
        if (data->flag) {
            return detail::decode_image_data(m_v.string(*data));
        }
        return detail::decode_image_data(m_v.raw(*data));
    }

    const JsonView& view() const { return m_v; }

private:
    const JsonView& m_v;
};

Status bad_response(std::string what) {
    return Status(Code::bad_response, "generateContent: " + std::move(what));
}

// Decodes the image part's data into the start of `*owned` (the buffer `data` was read from, or a
// separate unescaped copy), which then holds the image alone. false when it is not a string or
// not valid base64 (either alphabet, as detail::decode_image_data).
bool decode_in_place(const JsonView& view, const JsonNode* data, std::string* owned) {
    if (data == nullptr || data->type != JsonType::string) {
        return false;
    }
    util::Result<std::size_t> n = util::base64_decode_into(
        data->flag ? std::string_view(view.string(*data)) : view.raw(*data), owned->data());
    if (!n.ok()) {
        return false;
    }
    owned->resize(n.value());
    return true;
}

// Reads the answer in `body`; with `owned` (the same bytes, given up by the caller) the image is
// decoded over them and moved into the result, else it is decoded into a new string.
util::Result<ImageResult> parse_answer(std::string_view body, std::string* owned) {
    const std::optional<JsonView> view = JsonView::parse(body);
    if (!view) {
        return bad_response("the answer is not valid JSON (" + std::to_string(body.size()) +
                            " bytes)");
    }
    const Answer a(*view);
    const JsonNode& root = view->root();
    if (root.type != JsonType::object) {
        return bad_response("the answer is not a JSON object");
    }
    if (const JsonNode* feedback = a.member2(&root, "promptFeedback", "prompt_feedback")) {
        std::string reason = a.string_of(a.member2(feedback, "blockReason", "block_reason"));
        if (!reason.empty()) {
            std::string message = reason + ": prompt blocked";
            std::string detail_text =
                a.string_of(a.member2(feedback, "blockReasonMessage", "block_reason_message"));
            if (!detail_text.empty()) {
                message += " \"" + detail::clean_text(detail_text) + "\"";
            }
            return a.billed(Status(Code::blocked, message).with_http_status(200), root);
        }
    }
    const JsonNode* candidates = a.member(&root, "candidates");
    if (candidates == nullptr || candidates->type != JsonType::array || candidates->child == 0) {
        return a.billed(bad_response("the answer has no candidates and no block reason"), root);
    }
    const JsonNode* candidate = view->first(*candidates);
    std::string finish = a.string_of(a.member2(candidate, "finishReason", "finish_reason"));
    std::string finish_message =
        a.string_of(a.member2(candidate, "finishMessage", "finish_message"));
    if (detail::is_block_reason(finish)) {
        std::string message = finish;
        if (!finish_message.empty()) {
            message += ": \"" + detail::clean_text(finish_message) + "\"";
        }
        return a.billed(Status(Code::blocked, message).with_http_status(200), root);
    }

    const JsonNode* image = nullptr;
    std::string text;
    const JsonNode* content = a.member(candidate, "content");
    const JsonNode* parts = a.member(content, "parts");
    if (parts != nullptr && parts->type == JsonType::array) {
        for (const JsonNode* part = view->first(*parts); part != nullptr;
             part = view->next(*part)) {
            const JsonNode* thought = a.member(part, "thought");
            if (thought != nullptr && thought->type == JsonType::boolean && thought->flag) {
                continue;  // interim "thought" images are not outputs
            }
            const JsonNode* inline_data = a.member2(part, "inlineData", "inline_data");
            if (inline_data != nullptr &&
                util::starts_with(a.string_of(a.member2(inline_data, "mimeType", "mime_type")),
                                  "image/")) {
                image = inline_data;
            } else if (const JsonNode* t = a.member(part, "text");
                       t != nullptr && t->type == JsonType::string && text.empty()) {
                text = a.string_of(t);
            }
        }
    }
    if (image == nullptr) {
        std::string message =
            "no image in the answer (finishReason " + (finish.empty() ? "unset" : finish) + ")";
        if (!finish_message.empty()) {
            message += ": \"" + detail::clean_text(finish_message) + "\"";
        } else if (!text.empty()) {
            message += ": model said \"" + detail::clean_text(text) + "\"";
        }
        return a.billed(Status(Code::model_error, message).with_http_status(200), root);
    }

    ImageResult result;
    result.mime_type = a.string_of(a.member2(image, "mimeType", "mime_type"));
    // Everything but the image is read first: a decoding in place overwrites the body.
    result.usage = a.usage_of(root);
    result.model_version = a.string_of(a.member2(&root, "modelVersion", "model_version"));
    const bool has_usage = a.has_usage(root);
    const JsonNode* data = a.member(image, "data");
    bool decoded = false;
    if (owned != nullptr) {
        decoded = decode_in_place(*view, data, owned) && !owned->empty();
        if (decoded) {
            result.data = std::move(*owned);
        }
    } else if (auto bytes = a.image_data(data); bytes.ok() && !bytes->empty()) {
        result.data = std::move(bytes).value();
        decoded = true;
    }
    if (!decoded) {
        Status s = bad_response("the image part of type \"" + result.mime_type +
                                "\" has no valid base64 data");
        if (has_usage) {
            s.with_usage(result.usage);
        }
        return s;
    }
    return result;
}

}  // namespace

util::Result<ImageResult> parse_gemini_response(std::string_view body) {
    return parse_answer(body, nullptr);
}

util::Result<ImageResult> parse_gemini_response_in_place(std::string&& body) {
    std::string owned = std::move(body);
    return parse_answer(owned, &owned);
}

}  // namespace assetgen::provider
