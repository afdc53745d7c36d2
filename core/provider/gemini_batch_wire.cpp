// How this works: the small documents (an Operation, a list page, a File) are read through an
// nlohmann DOM; a result line, which holds an image's base64 (megabytes), is validated and
// indexed once by a JsonView, its "response" value is located by a scan over the line (no
// copy), and that span is read by parse_gemini_response, the same fast reader as a
// synchronous answer. A request line is the synchronous body pasted after its key, so the two
// paths can never send different requests for the same row.

#include "provider/gemini_batch_wire.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>

#include "provider/gemini_wire.hpp"
#include "provider/gemini_wire_detail.hpp"
#include "util/json_view.hpp"
#include "util/text.hpp"

namespace assetgen::provider {
namespace {

using json = nlohmann::json;
using util::Code;
using util::Status;

Status bad(std::string what) {
    return Status(Code::bad_response, "batch api: " + std::move(what));
}

const json* member2(const json& object, const char* camel, const char* snake) {
    if (!object.is_object()) {
        return nullptr;
    }
    auto it = object.find(camel);
    if (it == object.end()) {
        it = object.find(snake);
    }
    return it == object.end() ? nullptr : &*it;
}

std::string string_of(const json* v) {
    return (v != nullptr && v->is_string()) ? v->get<std::string>() : std::string();
}

// int64 fields come as strings ("12") on the wire; numbers are read too.
std::int64_t int_of(const json* v) {
    if (v == nullptr) {
        return 0;
    }
    if (v->is_number_integer()) {
        return std::max<std::int64_t>(0, v->get<std::int64_t>());
    }
    if (v->is_string()) {
        const std::string s = v->get<std::string>();
        std::int64_t n = 0;
        auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
        return (ec == std::errc() && end == s.data() + s.size() && n > 0) ? n : 0;
    }
    return 0;
}

BatchInfo batch_from(const json& op) {
    // An Operation carries the batch as metadata; a bare GenerateContentBatch is the batch.
    const json* meta = member2(op, "metadata", "metadata");
    const json& batch = (meta != nullptr && meta->is_object()) ? *meta : op;
    BatchInfo info;
    info.name = string_of(member2(batch, "name", "name"));
    if (info.name.empty()) {
        info.name = string_of(member2(op, "name", "name"));
    }
    info.display_name = string_of(member2(batch, "displayName", "display_name"));
    info.model = string_of(member2(batch, "model", "model"));
    info.state = parse_batch_state(string_of(member2(batch, "state", "state")));
    if (const json* s = member2(batch, "batchStats", "batch_stats")) {
        info.stats.requests = int_of(member2(*s, "requestCount", "request_count"));
        info.stats.succeeded =
            int_of(member2(*s, "successfulRequestCount", "successful_request_count"));
        info.stats.failed = int_of(member2(*s, "failedRequestCount", "failed_request_count"));
        info.stats.pending = int_of(member2(*s, "pendingRequestCount", "pending_request_count"));
    }
    const json* done = member2(op, "done", "done");
    info.done = done != nullptr && done->is_boolean() && done->get<bool>();
    // The output: the Operation's response, else the batch's output (the SDK reads the latter).
    for (const json* out :
         {member2(op, "response", "response"), member2(batch, "output", "output")}) {
        if (out == nullptr || !out->is_object()) {
            continue;
        }
        if (info.responses_file.empty()) {
            info.responses_file = string_of(member2(*out, "responsesFile", "responses_file"));
        }
        if (member2(*out, "inlinedResponses", "inlined_responses") != nullptr) {
            info.inline_responses = true;
        }
    }
    if (const json* e = member2(op, "error", "error"); e != nullptr && e->is_object()) {
        std::string status = string_of(member2(*e, "status", "status"));
        std::string message = detail::clean_text(string_of(member2(*e, "message", "message")));
        info.error = status.empty() ? message : status + ": " + message;
    }
    return info;
}

// The HTTP status a google.rpc.Status stands for: by its status name, else its code (an HTTP
// status as generateContent's errors carry, or a canonical gRPC code as google.rpc.Status has).
int http_equivalent(std::string_view status, std::int64_t code) {
    static constexpr std::pair<std::string_view, int> k_names[] = {
        {"INVALID_ARGUMENT", 400},   {"FAILED_PRECONDITION", 400},
        {"OUT_OF_RANGE", 400},       {"UNAUTHENTICATED", 401},
        {"PERMISSION_DENIED", 403},  {"NOT_FOUND", 404},
        {"RESOURCE_EXHAUSTED", 429}, {"CANCELLED", 499},
        {"INTERNAL", 500},           {"UNKNOWN", 500},
        {"UNAVAILABLE", 503},        {"DEADLINE_EXCEEDED", 504},
    };
    for (const auto& [name, http] : k_names) {
        if (status == name) {
            return http;
        }
    }
    if (code >= 100) {
        return static_cast<int>(std::min<std::int64_t>(code, 599));
    }
    static constexpr int k_grpc[] = {200, 499, 500, 400, 504, 404, 409, 403, 429,
                                     400, 409, 400, 501, 500, 503, 500, 401};
    return (code >= 0 && code < 17) ? k_grpc[code] : 500;
}

// The text of the value of `member` (a member node of `view` over `text`): from after its
// key's colon to the end of the balanced value. The text was validated by the view.
std::string_view value_text(std::string_view text, const util::JsonNode& member) {
    std::size_t i = member.key_end + 1;  // key_end is the key's closing quote
    while (i < text.size() && text[i] != ':') {
        ++i;
    }
    ++i;
    while (i < text.size() &&
           (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r')) {
        ++i;
    }
    const std::size_t begin = i;
    int depth = 0;
    bool in_string = false;
    for (; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            if (c == '\\') {
                ++i;
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            ++depth;
        } else if (c == '}' || c == ']') {
            if (--depth == 0) {
                return text.substr(begin, i + 1 - begin);
            }
        }
    }
    return text.substr(begin);
}

}  // namespace

std::string batch_request_key(std::string_view job_id, std::string_view scene_id, int variant) {
    std::string key;
    key.reserve(job_id.size() + scene_id.size() + 16);
    key.append(job_id).append("/").append(scene_id).append("/").append(std::to_string(variant));
    return key;
}

std::optional<BatchKey> parse_batch_request_key(std::string_view key) {
    const auto first = key.find('/');
    const auto last = key.rfind('/');
    if (first == std::string_view::npos || last == first || first == 0 || last + 1 >= key.size()) {
        return std::nullopt;
    }
    int variant = 0;
    std::string_view digits = key.substr(last + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), variant);
    if (ec != std::errc() || end != digits.data() + digits.size() || variant < 1) {
        return std::nullopt;
    }
    return BatchKey{std::string(key.substr(0, first)),
                    std::string(key.substr(first + 1, last - first - 1)), variant};
}

std::string build_batch_line(std::string_view key, const ImageRequest& request, bool image_only) {
    GeminiWireOptions options;
    options.image_only = image_only;  // service_tier stays empty: not sent in a batch
    std::string body = build_gemini_request(request, options);
    std::string line = "{\"key\":";
    line += json(std::string(key)).dump(-1, ' ', false, json::error_handler_t::replace);
    line += ",\"request\":";
    line.reserve(line.size() + body.size() + 2);
    line += body;
    line += "}\n";
    return line;
}

BatchState parse_batch_state(std::string_view text) {
    for (std::string_view prefix : {"BATCH_STATE_", "JOB_STATE_"}) {
        if (util::starts_with(text, prefix)) {
            text.remove_prefix(prefix.size());
            break;
        }
    }
    static constexpr std::pair<std::string_view, BatchState> k_states[] = {
        {"PENDING", BatchState::pending},    {"QUEUED", BatchState::pending},
        {"RUNNING", BatchState::running},    {"SUCCEEDED", BatchState::succeeded},
        {"FAILED", BatchState::failed},      {"CANCELLED", BatchState::cancelled},
        {"CANCELLING", BatchState::running}, {"EXPIRED", BatchState::expired},
    };
    for (const auto& [name, state] : k_states) {
        if (text == name) {
            return state;
        }
    }
    return BatchState::unspecified;
}

std::string_view batch_state_name(BatchState state) {
    switch (state) {
        case BatchState::pending:
            return "PENDING";
        case BatchState::running:
            return "RUNNING";
        case BatchState::succeeded:
            return "SUCCEEDED";
        case BatchState::failed:
            return "FAILED";
        case BatchState::cancelled:
            return "CANCELLED";
        case BatchState::expired:
            return "EXPIRED";
        case BatchState::unspecified:
            break;
    }
    return "UNSPECIFIED";
}

bool is_terminal(BatchState state) {
    return state == BatchState::succeeded || state == BatchState::failed ||
           state == BatchState::cancelled || state == BatchState::expired;
}

util::Result<BatchInfo> parse_batch(std::string_view body) {
    json root = json::parse(body.begin(), body.end(), nullptr, false);
    if (root.is_discarded() || !root.is_object()) {
        return bad("a batch answer is not a JSON object (" + std::to_string(body.size()) +
                   " bytes)");
    }
    BatchInfo info = batch_from(root);
    if (!util::starts_with(info.name, "batches/")) {
        return bad("a batch answer has no batches/ name");
    }
    return info;
}

util::Result<BatchPage> parse_batch_page(std::string_view body) {
    json root = json::parse(body.begin(), body.end(), nullptr, false);
    if (root.is_discarded() || !root.is_object()) {
        return bad("a batches.list page is not a JSON object");
    }
    BatchPage page;
    for (const char* field : {"operations", "batches"}) {
        auto it = root.find(field);
        if (it == root.end()) {
            continue;
        }
        if (!it->is_array()) {
            return bad(std::string("batches.list: \"") + field + "\" is not a list");
        }
        for (const json& op : *it) {
            BatchInfo info = batch_from(op);
            if (!info.name.empty()) {
                page.batches.push_back(std::move(info));
            }
        }
    }
    page.next_page_token = string_of(member2(root, "nextPageToken", "next_page_token"));
    return page;
}

util::Result<FileInfo> parse_file(std::string_view body) {
    json root = json::parse(body.begin(), body.end(), nullptr, false);
    if (root.is_discarded() || !root.is_object()) {
        return bad("a file answer is not a JSON object");
    }
    const json* f = member2(root, "file", "file");
    const json& file = (f != nullptr && f->is_object()) ? *f : root;
    FileInfo info;
    info.name = string_of(member2(file, "name", "name"));
    info.size_bytes = int_of(member2(file, "sizeBytes", "size_bytes"));
    info.mime_type = string_of(member2(file, "mimeType", "mime_type"));
    info.state = string_of(member2(file, "state", "state"));
    if (!util::starts_with(info.name, "files/")) {
        return bad("a file answer has no files/ name");
    }
    return info;
}

BatchResult parse_batch_result_line(std::string_view line) {
    BatchResult out;
    auto view = util::JsonView::parse(line);
    if (!view || view->root().type != util::JsonType::object) {
        out.outcome =
            bad("a result line is not a JSON object (" + std::to_string(line.size()) + " bytes)");
        return out;
    }
    const util::JsonNode& root = view->root();
    const util::JsonNode* key = view->member(root, "key");
    if (key == nullptr) {
        const util::JsonNode* meta = view->member(root, "metadata");
        key = meta != nullptr ? view->member(*meta, "key") : nullptr;
    }
    if (key != nullptr && key->type == util::JsonType::string) {
        out.key = view->string(*key);
    }
    const util::JsonNode* response = view->member(root, "response");
    if (response != nullptr && response->type == util::JsonType::object) {
        out.outcome = parse_gemini_response(value_text(line, *response));
        return out;
    }
    const util::JsonNode* error = view->member(root, "error");
    if (error != nullptr && error->type == util::JsonType::object) {
        json e = json::parse(value_text(line, *error), nullptr, false);
        const std::string status = string_of(member2(e, "status", "status"));
        const json* code = member2(e, "code", "code");
        const std::int64_t number =
            (code != nullptr && code->is_number_integer()) ? code->get<std::int64_t>() : -1;
        const int http = http_equivalent(status, number);
        std::string message = "batch request";
        if (!out.key.empty()) {
            message += " \"" + detail::clean_text(out.key) + "\"";
        }
        message += ": " + (status.empty() ? "error " + std::to_string(number) : status);
        const std::string text = detail::clean_text(string_of(member2(e, "message", "message")));
        if (!text.empty()) {
            message += " \"" + text + "\"";
        }
        out.outcome = Status(code_for_http_status(http), std::move(message)).with_http_status(http);
        return out;
    }
    out.outcome = bad("a result line has neither response nor error" +
                      (out.key.empty() ? std::string() : " (key \"" + out.key + "\")"));
    return out;
}

}  // namespace assetgen::provider
