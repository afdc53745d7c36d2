// How this works: every builder starts from the endpoint's base, adds the documented path with
// the bucket as is (valid bucket names need no escaping) and the object name percent-encoded as
// one segment, then appends query parameters in a fixed order: the operation's own first
// (uploadType, name, alt, prefix, ...), then generation, then the four preconditions. No builder
// sets Authorization; GcsClient adds it per attempt, so a request printed or logged from here
// never holds a token. Wire references:
//   uploads  https://cloud.google.com/storage/docs/uploading-objects,
//            https://cloud.google.com/storage/docs/performing-resumable-uploads
//   objects  https://cloud.google.com/storage/docs/json_api/v1/objects (get/list/delete/compose)
//   errors   https://cloud.google.com/storage/docs/json_api/v1/status-codes

#include "storage/gcs_wire.hpp"

#include <charconv>

#include <nlohmann/json.hpp>

#include "net/http_status.hpp"
#include "util/text.hpp"
#include "util/utf8.hpp"

namespace assetgen::storage {
namespace {

using nlohmann::json;
using util::Code;
using util::Status;

void add_query(std::string& url, std::string_view name, std::string_view value) {
    url += url.find('?') == std::string::npos ? '?' : '&';
    url += name;
    url += '=';
    url += percent_encode(value);
}

void add_query(std::string& url, std::string_view name, std::int64_t value) {
    add_query(url, name, std::to_string(value));
}

void add_preconditions(std::string& url, const Preconditions& pre) {
    if (pre.if_generation_match) {
        add_query(url, "ifGenerationMatch", *pre.if_generation_match);
    }
    if (pre.if_generation_not_match) {
        add_query(url, "ifGenerationNotMatch", *pre.if_generation_not_match);
    }
    if (pre.if_metageneration_match) {
        add_query(url, "ifMetagenerationMatch", *pre.if_metageneration_match);
    }
    if (pre.if_metageneration_not_match) {
        add_query(url, "ifMetagenerationNotMatch", *pre.if_metageneration_not_match);
    }
}

std::string objects_url(const GcsEndpoint& endpoint, const std::string& bucket) {
    return endpoint.base + "/storage/v1/b/" + bucket + "/o";
}

std::string object_url(const GcsEndpoint& endpoint, const GcsUrl& target) {
    return objects_url(endpoint, target.bucket) + "/" + percent_encode(target.object);
}

std::string upload_url(const GcsEndpoint& endpoint, const GcsUrl& target,
                       std::string_view upload_type) {
    std::string url = endpoint.base + "/upload/storage/v1/b/" + target.bucket + "/o";
    add_query(url, "uploadType", upload_type);
    add_query(url, "name", target.object);
    return url;
}

std::string content_type_or_default(const std::string& content_type) {
    return content_type.empty() ? "application/octet-stream" : content_type;
}

net::HttpRequest make(std::string method, std::string url) {
    net::HttpRequest r;
    r.method = std::move(method);
    r.url = std::move(url);
    return r;
}

// int64 fields are JSON strings in the API ("generation":"1709..."), numbers in some fakes.
std::int64_t int_field(const json& j, const char* name) {
    auto it = j.find(name);
    if (it == j.end()) {
        return 0;
    }
    if (it->is_number_integer()) {
        return it->get<std::int64_t>();
    }
    if (it->is_string()) {
        const std::string& s = it->get_ref<const std::string&>();
        std::int64_t v = 0;
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (ec == std::errc() && p == s.data() + s.size()) {
            return v;
        }
    }
    return 0;
}

std::string string_field(const json& j, const char* name) {
    auto it = j.find(name);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

ObjectMetadata metadata_from(const json& j) {
    ObjectMetadata m;
    m.bucket = string_field(j, "bucket");
    m.name = string_field(j, "name");
    m.generation = int_field(j, "generation");
    m.metageneration = int_field(j, "metageneration");
    m.size = static_cast<std::uint64_t>(int_field(j, "size"));
    std::int64_t components = int_field(j, "componentCount");
    m.component_count = components > 0 ? static_cast<int>(components) : 1;
    m.content_type = string_field(j, "contentType");
    m.md5_hash = string_field(j, "md5Hash");
    m.crc32c = string_field(j, "crc32c");
    m.updated = string_field(j, "updated");
    if (auto custom = j.find("metadata"); custom != j.end() && custom->is_object()) {
        for (const auto& [key, value] : custom->items()) {
            if (value.is_string()) {
                m.metadata[key] = value.get<std::string>();
            }
        }
    }
    return m;
}

// Bounded and valid UTF-8 (a non-JSON body is taken as it is; the cut may fall inside a
// character), since the message ends up in JSON files.
std::string shorten(const std::string& s, std::size_t max = 300) {
    return util::utf8_clean(s, max);
}

}  // namespace

GcsEndpoint resolve_gcs_endpoint(const auth::Env& env) {
    std::string value = env.get("STORAGE_EMULATOR_HOST");
    if (value.empty()) {
        value = env.get("CLOUD_STORAGE_EMULATOR_ENDPOINT");
    }
    value = std::string(util::trim(value));
    bool emulator = true;
    if (value.empty()) {
        value = std::string(util::trim(env.get("ASSETGEN_GCS_ENDPOINT")));
        emulator = false;
        if (value.empty()) {
            return GcsEndpoint{};
        }
    }
    if (value.find("://") == std::string::npos) {
        value = (emulator ? "http://" : "https://") + value;
    }
    while (!value.empty() && value.back() == '/') {
        value.pop_back();
    }
    return GcsEndpoint{value, emulator};
}

net::HttpRequest media_upload_request(const GcsEndpoint& endpoint, const GcsUrl& target,
                                      std::string data, const std::string& content_type,
                                      const Preconditions& pre) {
    std::string url = upload_url(endpoint, target, "media");
    add_preconditions(url, pre);
    net::HttpRequest r = make("POST", std::move(url));
    r.headers.emplace_back("Content-Type", content_type_or_default(content_type));
    r.body = std::move(data);
    return r;
}

net::HttpRequest resumable_start_request(const GcsEndpoint& endpoint, const GcsUrl& target,
                                         const std::string& content_type, std::uint64_t size,
                                         const Preconditions& pre, const Metadata& metadata) {
    std::string url = upload_url(endpoint, target, "resumable");
    add_preconditions(url, pre);
    net::HttpRequest r = make("POST", std::move(url));
    std::string type = content_type_or_default(content_type);
    r.headers.emplace_back("Content-Type", "application/json; charset=UTF-8");
    r.headers.emplace_back("X-Upload-Content-Type", type);
    r.headers.emplace_back("X-Upload-Content-Length", std::to_string(size));
    json resource = {{"name", target.object}, {"contentType", type}};
    if (!metadata.empty()) {
        resource["metadata"] = metadata;
    }
    r.body = resource.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return r;
}

net::HttpRequest multipart_upload_request(const GcsEndpoint& endpoint, const GcsUrl& target,
                                          std::string_view data, const std::string& content_type,
                                          const Metadata& metadata, const Preconditions& pre,
                                          const std::string& boundary) {
    std::string url = endpoint.base + "/upload/storage/v1/b/" + target.bucket + "/o";
    add_query(url, "uploadType", "multipart");
    add_preconditions(url, pre);
    const std::string type = content_type_or_default(content_type);
    json resource = {{"name", target.object}, {"contentType", type}};
    if (!metadata.empty()) {
        resource["metadata"] = metadata;
    }
    net::HttpRequest r = make("POST", std::move(url));
    r.headers.emplace_back("Content-Type", "multipart/related; boundary=" + boundary);
    r.body = "--" + boundary + "\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n" +
             resource.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\r\n--" +
             boundary + "\r\nContent-Type: " + type + "\r\n\r\n" + std::string(data) + "\r\n--" +
             boundary + "--\r\n";
    return r;
}

net::HttpRequest rewrite_request(const GcsEndpoint& endpoint, const GcsUrl& source,
                                 std::optional<std::int64_t> source_generation,
                                 const GcsUrl& destination, const std::string& content_type,
                                 const Metadata& metadata, const Preconditions& pre,
                                 const std::string& rewrite_token) {
    std::string url = object_url(endpoint, source) + "/rewriteTo/b/" + destination.bucket + "/o/" +
                      percent_encode(destination.object);
    if (source_generation) {
        add_query(url, "sourceGeneration", *source_generation);
    }
    add_preconditions(url, pre);
    if (!rewrite_token.empty()) {
        add_query(url, "rewriteToken", rewrite_token);
    }
    json resource = json::object();
    if (!content_type.empty()) {
        resource["contentType"] = content_type;
    }
    if (!metadata.empty()) {
        resource["metadata"] = metadata;
    }
    net::HttpRequest r = make("POST", std::move(url));
    r.headers.emplace_back("Content-Type", "application/json; charset=UTF-8");
    r.body = resource.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return r;
}

util::Result<RewriteStep> parse_rewrite_answer(std::string_view text) {
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return Status(Code::bad_response, "gcs: rewrite answer is not a JSON object");
    }
    RewriteStep step;
    auto done = j.find("done");
    step.done = done != j.end() && done->is_boolean() && done->get<bool>();
    if (step.done) {
        auto resource = j.find("resource");
        if (resource == j.end() || !resource->is_object()) {
            return Status(Code::bad_response, "gcs: rewrite done without the object resource");
        }
        step.resource = metadata_from(*resource);
        return step;
    }
    step.rewrite_token = string_field(j, "rewriteToken");
    if (step.rewrite_token.empty()) {
        return Status(Code::bad_response, "gcs: rewrite not done and no rewriteToken");
    }
    return step;
}

std::optional<std::pair<std::uint64_t, std::uint64_t>> parse_content_range(std::string_view v) {
    v = util::trim(v);
    constexpr std::string_view k_prefix = "bytes ";
    if (v.substr(0, k_prefix.size()) != k_prefix) {
        return std::nullopt;
    }
    v.remove_prefix(k_prefix.size());
    const auto dash = v.find('-');
    const auto slash = v.find('/');
    if (dash == std::string_view::npos || slash == std::string_view::npos || slash < dash) {
        return std::nullopt;
    }
    std::uint64_t first = 0;
    std::uint64_t total = 0;
    auto a = v.substr(0, dash);
    auto t = v.substr(slash + 1);
    auto r1 = std::from_chars(a.data(), a.data() + a.size(), first);
    auto r2 = std::from_chars(t.data(), t.data() + t.size(), total);
    if (r1.ec != std::errc() || r1.ptr != a.data() + a.size() || r2.ec != std::errc() ||
        r2.ptr != t.data() + t.size()) {
        return std::nullopt;
    }
    return std::make_pair(first, total);
}

net::HttpRequest resumable_chunk_request(const std::string& session_url, std::string chunk,
                                         std::uint64_t offset, std::optional<std::uint64_t> total) {
    net::HttpRequest r = make("PUT", session_url);
    std::string range = "bytes ";
    if (chunk.empty()) {
        range += "*";
    } else {
        range += std::to_string(offset) + "-" + std::to_string(offset + chunk.size() - 1);
    }
    range += "/" + (total ? std::to_string(*total) : std::string("*"));
    r.headers.emplace_back("Content-Range", range);
    r.body = std::move(chunk);
    return r;
}

net::HttpRequest resumable_status_request(const std::string& session_url, std::uint64_t total) {
    net::HttpRequest r = make("PUT", session_url);
    r.headers.emplace_back("Content-Range", "bytes */" + std::to_string(total));
    return r;
}

net::HttpRequest read_request(const GcsEndpoint& endpoint, const GcsUrl& target,
                              std::optional<std::int64_t> generation, const Preconditions& pre) {
    std::string url = object_url(endpoint, target);
    add_query(url, "alt", "media");
    if (generation) {
        add_query(url, "generation", *generation);
    }
    add_preconditions(url, pre);
    return make("GET", std::move(url));
}

net::HttpRequest stat_request(const GcsEndpoint& endpoint, const GcsUrl& target,
                              const Preconditions& pre) {
    std::string url = object_url(endpoint, target);
    add_preconditions(url, pre);
    return make("GET", std::move(url));
}

net::HttpRequest list_request(const GcsEndpoint& endpoint, const std::string& bucket,
                              const std::string& prefix, const std::string& page_token,
                              int max_results) {
    std::string url = objects_url(endpoint, bucket);
    if (!prefix.empty()) {
        add_query(url, "prefix", prefix);
    }
    add_query(url, "maxResults", max_results);
    if (!page_token.empty()) {
        add_query(url, "pageToken", page_token);
    }
    return make("GET", std::move(url));
}

net::HttpRequest delete_request(const GcsEndpoint& endpoint, const GcsUrl& target,
                                std::optional<std::int64_t> generation, const Preconditions& pre) {
    std::string url = object_url(endpoint, target);
    if (generation) {
        add_query(url, "generation", *generation);
    }
    add_preconditions(url, pre);
    return make("DELETE", std::move(url));
}

net::HttpRequest compose_request(const GcsEndpoint& endpoint, const GcsUrl& destination,
                                 const std::vector<ComposeSource>& sources,
                                 const std::string& content_type, const Preconditions& pre,
                                 const Metadata& metadata) {
    std::string url = object_url(endpoint, destination) + "/compose";
    add_preconditions(url, pre);
    json list = json::array();
    for (const auto& s : sources) {
        json source = {{"name", s.name}};
        if (s.if_generation_match) {
            // int64 as a string, as the API writes them
            source["objectPreconditions"] = {
                {"ifGenerationMatch", std::to_string(*s.if_generation_match)}};
        }
        list.push_back(std::move(source));
    }
    json body = {{"kind", "storage#composeRequest"},
                 {"sourceObjects", std::move(list)},
                 {"destination", {{"contentType", content_type_or_default(content_type)}}}};
    if (!metadata.empty()) {
        body["destination"]["metadata"] = metadata;
    }
    net::HttpRequest r = make("POST", std::move(url));
    r.headers.emplace_back("Content-Type", "application/json; charset=UTF-8");
    r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return r;
}

util::Result<ObjectMetadata> parse_object_metadata(std::string_view text) {
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return Status(Code::bad_response, "gcs: object resource is not a JSON object");
    }
    ObjectMetadata m = metadata_from(j);
    if (m.name.empty() || m.generation == 0) {
        return Status(Code::bad_response, "gcs: object resource without name or generation");
    }
    return m;
}

util::Result<ListPage> parse_list_page(std::string_view text) {
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return Status(Code::bad_response, "gcs: objects.list answer is not a JSON object");
    }
    ListPage page;
    if (auto it = j.find("items"); it != j.end() && it->is_array()) {
        for (const auto& item : *it) {
            if (item.is_object()) {
                page.items.push_back(metadata_from(item));
            }
        }
    }
    if (auto it = j.find("prefixes"); it != j.end() && it->is_array()) {
        for (const auto& p : *it) {
            if (p.is_string()) {
                page.prefixes.push_back(p.get<std::string>());
            }
        }
    }
    page.next_page_token = string_field(j, "nextPageToken");
    return page;
}

util::Result<std::uint64_t> parse_persisted_bytes(std::string_view range) {
    range = util::trim(range);
    if (range.empty()) {
        return std::uint64_t{0};
    }
    constexpr std::string_view k_prefix = "bytes=0-";
    std::uint64_t last = 0;
    if (range.substr(0, k_prefix.size()) == k_prefix) {
        std::string_view digits = range.substr(k_prefix.size());
        auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), last);
        if (ec == std::errc() && p == digits.data() + digits.size() && !digits.empty()) {
            return last + 1;
        }
    }
    return Status(Code::bad_response,
                  "gcs: resumable upload: malformed Range header \"" + std::string(range) + "\"");
}

std::string goog_hash(const net::HttpResponse& response, std::string_view kind) {
    std::string wanted = std::string(kind) + "=";
    for (const auto& [name, value] : response.headers) {
        if (util::to_lower(name) != "x-goog-hash") {
            continue;
        }
        for (const auto& piece : util::split_any(value, ",")) {
            std::string_view p = util::trim(piece);
            if (p.substr(0, wanted.size()) == wanted) {
                return std::string(p.substr(wanted.size()));
            }
        }
    }
    return "";
}

util::Status gcs_error(const net::HttpResponse& response, std::string_view where) {
    const int status = response.status;
    std::string reason;
    std::string message;
    json j = json::parse(response.body, nullptr, false);
    if (!j.is_discarded() && j.is_object() && j.contains("error") && j["error"].is_object()) {
        const json& e = j["error"];
        message = string_field(e, "message");
        if (auto it = e.find("errors");
            it != e.end() && it->is_array() && !it->empty() && (*it)[0].is_object()) {
            reason = string_field((*it)[0], "reason");
        }
    } else {
        message = std::string(util::trim(response.body));
    }
    std::string text = std::string(where) + ": HTTP " + std::to_string(status);
    if (!reason.empty()) {
        text += " " + reason;
    }
    if (!message.empty()) {
        text += ": " + shorten(message);
    }
    const Code code = net::code_for_http_status(status, Code::storage_io);
    Status out(code, util::redact(text));
    out.with_http_status(status);
    std::string retry_after(util::trim(response.header("retry-after")));
    int seconds = 0;
    auto [p, ec] =
        std::from_chars(retry_after.data(), retry_after.data() + retry_after.size(), seconds);
    if (!retry_after.empty() && ec == std::errc() && p == retry_after.data() + retry_after.size() &&
        seconds >= 0) {
        out.with_retry_after(std::chrono::seconds(seconds));
    }
    return out;
}

bool is_precondition_failed(const util::Status& status) {
    return status.code() == Code::storage_io && status.http_status() == 412;
}

}  // namespace assetgen::storage
