// How this works: the small documents (a job, a list page) are read through an nlohmann DOM;
// a predictions line, which holds an image's base64, is indexed once by a JsonView to read its
// status and the key's labels, and its response is read by parse_batch_result_line (the fast
// reader of the Gemini Batch API's lines: the same GenerateContentResponse). A failed row's
// status is turned into the {"error":{…}} a Gemini result line carries, so both services name a
// failed request's code the same way. A request line is the synchronous body with the key's
// labels added, so the two paths never send different requests for one row.

#include "provider/vertex_batch_wire.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>

#include "provider/gemini_wire.hpp"
#include "util/json_view.hpp"
#include "util/text.hpp"

namespace assetgen::provider {
namespace {

using json = nlohmann::json;
using util::Code;
using util::Status;

constexpr std::string_view k_label_prefix = "assetgen-key-";
constexpr std::size_t k_label_max = 63;  // a label value's documented limit

Status bad(std::string what) {
    return Status(Code::bad_response, "vertex batch: " + std::move(what));
}

std::string string_of(const json& object, const char* name) {
    if (!object.is_object()) {
        return "";
    }
    auto it = object.find(name);
    return (it != object.end() && it->is_string()) ? it->get<std::string>() : std::string();
}

// int64 fields come as strings ("12") on the wire; numbers are read too.
std::int64_t int_of(const json& object, const char* name) {
    if (!object.is_object()) {
        return 0;
    }
    auto it = object.find(name);
    if (it == object.end()) {
        return 0;
    }
    if (it->is_number_integer()) {
        return std::max<std::int64_t>(0, it->get<std::int64_t>());
    }
    if (it->is_string()) {
        const std::string s = it->get<std::string>();
        std::int64_t n = 0;
        auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
        return (ec == std::errc() && end == s.data() + s.size() && n > 0) ? n : 0;
    }
    return 0;
}

bool is_plain(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_' || c == '.';
    });
}

constexpr std::string_view k_grpc_names[] = {
    "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
    "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
    "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
    "DATA_LOSS", "UNAUTHENTICATED"};

BatchState vertex_state(std::string_view text) {
    if (text == "JOB_STATE_PAUSED") {
        return BatchState::pending;
    }
    if (text == "JOB_STATE_UPDATING") {
        return BatchState::running;
    }
    if (text == "JOB_STATE_PARTIALLY_SUCCEEDED") {
        return BatchState::succeeded;
    }
    return parse_batch_state(text);
}

BatchInfo job_from(const json& job) {
    BatchInfo info;
    info.name = string_of(job, "name");
    info.display_name = string_of(job, "displayName");
    info.model = string_of(job, "model");
    info.state = vertex_state(string_of(job, "state"));
    if (auto it = job.find("completionStats"); it != job.end() && it->is_object()) {
        info.stats.succeeded = int_of(*it, "successfulCount");
        info.stats.failed = int_of(*it, "failedCount");
        info.stats.pending = int_of(*it, "incompleteCount");
        info.stats.requests = info.stats.succeeded + info.stats.failed + info.stats.pending;
    }
    if (auto it = job.find("outputInfo"); it != job.end() && it->is_object()) {
        info.responses_file = string_of(*it, "gcsOutputDirectory");
    }
    info.done = is_terminal(info.state);
    if (auto it = job.find("error"); it != job.end() && it->is_object()) {
        std::string status = string_of(*it, "status");
        const std::int64_t code = int_of(*it, "code");
        if (status.empty() && code > 0 && code < 17) {
            status = std::string(k_grpc_names[code]);
        }
        const std::string message = string_of(*it, "message");
        info.error = status.empty() ? message : status + ": " + message;
    }
    return info;
}

bool is_job_name(std::string_view name) {
    return util::starts_with(name, "projects/") &&
           name.find("/batchPredictionJobs/") != std::string_view::npos;
}

// The error object a failed row's status text stands for.
json status_error(std::string_view text) {
    if (const auto brace = text.find('{'); brace != std::string_view::npos) {
        json embedded = json::parse(text.substr(brace), nullptr, false);
        if (embedded.is_object()) {
            auto it = embedded.find("error");
            if (it != embedded.end() && it->is_object()) {
                return *it;
            }
            if (embedded.contains("code") || embedded.contains("status")) {
                return embedded;
            }
        }
    }
    static constexpr std::pair<std::string_view, int> k_reasons[] = {
        {"Bad Request", 400}, {"Unauthorized", 401},        {"Forbidden", 403},
        {"Not Found", 404},   {"Too Many Requests", 429},   {"Resource exhausted", 429},
        {"Internal", 500},    {"Service Unavailable", 503}, {"Gateway Timeout", 504},
        {"Deadline", 504},
    };
    const std::string message(text.substr(0, std::min<std::size_t>(text.size(), 500)));
    for (const auto& [reason, code] : k_reasons) {
        if (util::starts_with(text, reason)) {
            return json{{"code", code}, {"message", message}};
        }
    }
    for (std::string_view name : k_grpc_names) {
        if (name != "OK" && util::starts_with(text, name)) {
            return json{{"status", std::string(name)}, {"message", message}};
        }
    }
    return json{{"code", 500}, {"message", message}};
}

}  // namespace

std::vector<std::pair<std::string, std::string>> vertex_key_labels(std::string_view key) {
    static constexpr char k_hex[] = "0123456789abcdef";
    std::vector<std::pair<std::string, std::string>> labels;
    std::string value;
    auto flush = [&] {
        std::string name(k_label_prefix);
        const std::size_t n = labels.size();
        name += static_cast<char>('0' + (n / 10) % 10);
        name += static_cast<char>('0' + n % 10);
        labels.emplace_back(std::move(name), std::move(value));
        value.clear();
    };
    for (unsigned char c : key) {
        std::string piece;
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') {
            piece = static_cast<char>(c);
        } else {
            piece = {'_', k_hex[c >> 4], k_hex[c & 15]};
        }
        if (value.size() + piece.size() > k_label_max) {
            flush();
        }
        value += piece;
    }
    if (!value.empty() || labels.empty()) {
        flush();
    }
    return labels;
}

std::string vertex_key_from_labels(const std::vector<std::pair<std::string, std::string>>& labels) {
    std::vector<std::pair<std::string, std::string>> parts;
    for (const auto& label : labels) {
        if (util::starts_with(label.first, k_label_prefix)) {
            parts.push_back(label);
        }
    }
    std::sort(parts.begin(), parts.end());
    std::string encoded;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        const std::string& name = parts[i].first;
        const std::string want{static_cast<char>('0' + (i / 10) % 10),
                               static_cast<char>('0' + i % 10)};
        if (name.substr(k_label_prefix.size()) != want) {
            return "";
        }
        encoded += parts[i].second;
    }
    auto hex = [](char c) {
        return (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
    };
    std::string key;
    for (std::size_t i = 0; i < encoded.size(); ++i) {
        if (encoded[i] != '_') {
            key += encoded[i];
            continue;
        }
        if (i + 2 >= encoded.size()) {
            return "";
        }
        const int hi = hex(encoded[i + 1]);
        const int lo = hex(encoded[i + 2]);
        if (hi < 0 || lo < 0) {
            return "";
        }
        key += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return key;
}

std::string build_vertex_batch_line(std::string_view key, const ImageRequest& request,
                                    bool image_only) {
    GeminiWireOptions options;
    options.image_only = image_only;  // service_tier stays empty: the batch is the tier
    std::string body = build_gemini_request(request, options);
    json labels = json::object();
    for (auto& [name, value] : vertex_key_labels(key)) {
        labels[name] = value;
    }
    // The body is one JSON object: the labels go in before its closing brace.
    const auto close = body.rfind('}');
    std::string line = "{\"request\":";
    line.reserve(body.size() + 256);
    line.append(body, 0, close);
    line += ",\"labels\":";
    line += labels.dump();
    line += "}}\n";
    return line;
}

util::Result<std::string> vertex_publisher_model(std::string_view model) {
    std::string_view id = model;
    for (std::string_view prefix : {"publishers/google/models/", "models/"}) {
        if (util::starts_with(id, prefix)) {
            id.remove_prefix(prefix.size());
            break;
        }
    }
    if (!is_plain(id)) {
        return Status(Code::invalid_input,
                      "vertex batch: model \"" + std::string(model) + "\" is not a plain model id");
    }
    return "publishers/google/models/" + std::string(id);
}

std::string build_vertex_job_body(std::string_view display_name, std::string_view publisher_model,
                                  std::string_view input_uri, std::string_view output_uri_prefix) {
    json body = {
        {"displayName", std::string(display_name)},
        {"model", std::string(publisher_model)},
        {"inputConfig",
         {{"instancesFormat", "jsonl"}, {"gcsSource", {{"uris", {std::string(input_uri)}}}}}},
        {"outputConfig",
         {{"predictionsFormat", "jsonl"},
          {"gcsDestination", {{"outputUriPrefix", std::string(output_uri_prefix)}}}}}};
    return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

util::Result<BatchInfo> parse_vertex_job(std::string_view body) {
    json root = json::parse(body.begin(), body.end(), nullptr, false);
    if (root.is_discarded() || !root.is_object()) {
        return bad("a batchPredictionJob answer is not a JSON object (" +
                   std::to_string(body.size()) + " bytes)");
    }
    BatchInfo info = job_from(root);
    if (!is_job_name(info.name)) {
        return bad("a batchPredictionJob answer has no projects/…/batchPredictionJobs/ name");
    }
    return info;
}

util::Result<VertexJobPage> parse_vertex_job_page(std::string_view body) {
    json root = json::parse(body.begin(), body.end(), nullptr, false);
    if (root.is_discarded() || !root.is_object()) {
        return bad("a batchPredictionJobs.list page is not a JSON object");
    }
    VertexJobPage page;
    if (auto it = root.find("batchPredictionJobs"); it != root.end()) {
        if (!it->is_array()) {
            return bad("batchPredictionJobs.list: \"batchPredictionJobs\" is not a list");
        }
        for (const json& job : *it) {
            BatchInfo info = job_from(job);
            if (is_job_name(info.name)) {
                page.create_times.push_back(string_of(job, "createTime"));
                page.jobs.push_back(std::move(info));
            }
        }
    }
    page.next_page_token = string_of(root, "nextPageToken");
    return page;
}

BatchResult parse_vertex_prediction_line(std::string_view line) {
    auto view = util::JsonView::parse(line);
    if (!view || view->root().type != util::JsonType::object) {
        BatchResult out;
        out.outcome = bad("a predictions line is not a JSON object (" +
                          std::to_string(line.size()) + " bytes)");
        return out;
    }
    const util::JsonNode& root = view->root();
    std::string key;
    if (const util::JsonNode* k = view->member(root, "key");
        k != nullptr && k->type == util::JsonType::string) {
        key = view->string(*k);
    }
    if (key.empty()) {
        const util::JsonNode* request = view->member(root, "request");
        const util::JsonNode* labels =
            request != nullptr ? view->member(*request, "labels") : nullptr;
        std::vector<std::pair<std::string, std::string>> pairs;
        for (const util::JsonNode* l = labels != nullptr ? view->first(*labels) : nullptr;
             l != nullptr; l = view->next(*l)) {
            if (l->type == util::JsonType::string && !l->key_escaped) {
                pairs.emplace_back(
                    std::string(line.substr(l->key_begin, l->key_end - l->key_begin)),
                    view->string(*l));
            }
        }
        key = vertex_key_from_labels(pairs);
    }
    const util::JsonNode* status = view->member(root, "status");
    std::string status_text;
    if (status != nullptr && status->type == util::JsonType::string) {
        status_text = view->string(*status);
    }
    if (!util::trim(status_text).empty()) {
        json error_line = {{"key", key}, {"error", status_error(util::trim(status_text))}};
        BatchResult out = parse_batch_result_line(
            error_line.dump(-1, ' ', false, json::error_handler_t::replace));
        out.key = key;
        return out;
    }
    BatchResult out = parse_batch_result_line(line);
    out.key = key;
    return out;
}

bool is_vertex_predictions_file(std::string_view location) {
    const auto slash = location.rfind('/');
    const std::string_view base =
        slash == std::string_view::npos ? location : location.substr(slash + 1);
    return util::starts_with(base, "predictions") && base.size() > 6 &&
           base.substr(base.size() - 6) == ".jsonl";
}

}  // namespace assetgen::provider
