// How this works: the calls GcsClient lacks are built from gcs_wire's request builders (the
// compose body gains destination metadata, a read gains a Range header) or from the documented
// paths (rewriteTo, multipart upload), and each runs through a GcsRetryLoop with Google's
// idempotency verdict: every write here carries ifGenerationMatch, so all may be retried; a
// retry whose first attempt was applied then meets 412, which callers resolve by reading the
// day object's metadata (gcs_append.cpp). Tokens are added per attempt as GcsClient does.
// References: https://cloud.google.com/storage/docs/json_api/v1/objects/compose,
// .../objects/rewrite, .../objects/get (Range),
// https://cloud.google.com/storage/docs/uploading-objects

#include "ledger/gcs_ledger_store.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <random>

#include <nlohmann/json.hpp>

#include "auth/chain.hpp"
#include "net/curl_transport.hpp"
#include "storage/crc32c.hpp"
#include "util/hash.hpp"
#include "util/text.hpp"

namespace assetgen::ledger {
namespace {

using nlohmann::json;
using util::Code;
using util::Status;

constexpr const char* k_seq_key = "assetgen-seq";
constexpr const char* k_parts_key = "assetgen-parts";
// A rewrite of a large object may take several calls; ours are small, so a few suffice.
constexpr int k_max_rewrite_calls = 64;

storage::GcsClientOptions normalised(storage::GcsClientOptions options) {
    while (!options.endpoint.base.empty() && options.endpoint.base.back() == '/') {
        options.endpoint.base.pop_back();
    }
    return options;
}

std::int64_t to_int(std::string_view s) {
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return ec == std::errc() && p == s.data() + s.size() ? v : 0;
}

json metadata_json(std::int64_t seq, const std::vector<std::string>& recent) {
    std::string parts;
    for (const auto& t : recent) {
        parts += (parts.empty() ? "" : ",") + t;
    }
    return json{{k_seq_key, std::to_string(seq)}, {k_parts_key, parts}};
}

util::Result<DayState> parse_day_state(const std::string& body, const std::string& where) {
    auto meta = storage::parse_object_metadata(body);
    if (!meta.ok()) {
        return Status(meta.status().code(), where + ": " + meta.status().message());
    }
    DayState s;
    s.exists = true;
    s.generation = meta->generation;
    s.size = meta->size;
    s.component_count = meta->component_count;
    s.crc32c = meta->crc32c;
    json j = json::parse(body, nullptr, false);
    if (auto m = j.find("metadata"); m != j.end() && m->is_object()) {
        if (auto seq = m->find(k_seq_key); seq != m->end() && seq->is_string()) {
            s.seq = to_int(seq->get<std::string>());
        }
        if (auto parts = m->find(k_parts_key); parts != m->end() && parts->is_string()) {
            s.recent = util::split_any(parts->get<std::string>(), ",");
        }
    }
    return s;
}

std::int64_t header_int(const net::HttpResponse& r, std::string_view name) {
    return to_int(util::trim(r.header(name)));
}

// "bytes a-b/total" → (a, total).
bool parse_content_range(std::string_view v, std::uint64_t& start, std::uint64_t& total) {
    v = util::trim(v);
    constexpr std::string_view k_prefix = "bytes ";
    if (v.substr(0, k_prefix.size()) != k_prefix) {
        return false;
    }
    v.remove_prefix(k_prefix.size());
    const auto dash = v.find('-');
    const auto slash = v.find('/');
    if (dash == std::string_view::npos || slash == std::string_view::npos || slash < dash) {
        return false;
    }
    auto a = v.substr(0, dash);
    auto t = v.substr(slash + 1);
    auto r1 = std::from_chars(a.data(), a.data() + a.size(), start);
    auto r2 = std::from_chars(t.data(), t.data() + t.size(), total);
    return r1.ec == std::errc() && r2.ec == std::errc();
}

Status changed_meanwhile(const std::string& where) {
    Status s(Code::storage_io, where + ": the object changed meanwhile");
    s.with_http_status(412);
    return s;
}

std::string random_boundary() {
    std::random_device rd;
    char buf[40];
    std::snprintf(buf, sizeof buf, "assetgen-%08x%08x%08x", rd(), rd(), rd());
    return buf;
}

}  // namespace

bool DayState::lists(std::string_view token) const {
    for (const auto& t : recent) {
        if (t == token) {
            return true;
        }
    }
    return false;
}

std::string part_token(std::string_view part_object_name) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx",
                  static_cast<unsigned long long>(util::fnv1a64(part_object_name)));
    return buf;
}

GcsLedgerStore::GcsLedgerStore(net::HttpTransport& transport, auth::TokenSource* tokens,
                               util::Clock& clock, storage::GcsClientOptions options,
                               storage::GcsUrl location)
    : m_transport(transport),
      m_tokens(tokens),
      m_options(normalised(std::move(options))),
      m_client(transport, tokens, clock, m_options),
      m_retry(m_options.retry, clock, m_options.jitter_seed ^ 0x1ed9e7, m_options.log),
      m_location(std::move(location)) {
    while (!m_location.object.empty() && m_location.object.back() == '/') {
        m_location.object.pop_back();
    }
}

util::Result<std::unique_ptr<GcsLedgerStore>> GcsLedgerStore::open(
    std::string_view location, const storage::StorageContext& context) {
    TRY_ASSIGN(storage::GcsUrl url, storage::parse_gcs_prefix(location));
    if (context.transport == nullptr || context.clock == nullptr) {
        return Status(Code::config, std::string(location) +
                                        ": a gs:// ledger needs an HTTP transport and a clock");
    }
    return std::make_unique<GcsLedgerStore>(*context.transport, context.tokens, *context.clock,
                                            context.gcs, std::move(url));
}

std::string GcsLedgerStore::describe() const {
    return storage::gcs_url(m_location.bucket, m_location.object);
}

std::string GcsLedgerStore::spool_dir_for(const std::string& root) const {
    return root + "/ledger-" + storage::percent_encode(describe());
}

std::string GcsLedgerStore::object_name(std::string_view relative) const {
    return m_location.object.empty() ? std::string(relative)
                                     : m_location.object + "/" + std::string(relative);
}

storage::GcsUrl GcsLedgerStore::day_object(std::string_view day) const {
    return storage::GcsUrl{m_location.bucket, object_name(std::string(day) + ".jsonl")};
}

storage::GcsUrl GcsLedgerStore::part_object(std::string_view day, std::string_view writer,
                                            std::uint64_t first, std::uint64_t end) const {
    return storage::GcsUrl{
        m_location.bucket,
        object_name(".parts/" + std::string(day) + "/" + std::string(writer) + "-" +
                    std::to_string(first) + "-" + std::to_string(end) + ".jsonl")};
}

util::Result<net::HttpResponse> GcsLedgerStore::send(net::HttpRequest request, bool& sent) {
    request.timeout = m_options.timeout;
    if (m_tokens != nullptr && !m_options.endpoint.emulator) {
        auto token = m_tokens->token();
        if (!token.ok()) {
            sent = false;
            Status s(token.status().code(),
                     util::redact("gcs: credentials (" + m_tokens->describe() +
                                  "): " + token.status().message()));
            s.with_http_status(token.status().http_status());
            return s;
        }
        if (!token->empty()) {
            request.headers.emplace_back("Authorization", "Bearer " + *token);
        }
    }
    sent = true;
    auto response = m_transport.send(request);
    if (m_options.log && m_options.log_requests) {
        m_options.log("gcs: " + storage::describe_gcs_request(request) + " → " +
                      (response.ok() ? std::to_string(response->status)
                                     : util::redact(response.status().to_string())));
    }
    if (!response.ok()) {
        Status s(response.status().code(), util::redact(response.status().message()));
        s.with_http_status(response.status().http_status());
        return s;
    }
    return response;
}

util::Result<DayState> GcsLedgerStore::state_of(const util::Result<net::HttpResponse>& sent,
                                                const std::string& where) {
    if (!sent.ok()) {
        return sent.status();
    }
    if (sent->status != 200 && sent->status != 201) {
        return storage::gcs_error(*sent, where);
    }
    return parse_day_state(sent->body, where);
}

util::Result<DayState> GcsLedgerStore::stat_day(std::string_view day) {
    const storage::GcsUrl url = day_object(day);
    const std::string where = "stat " + url.to_string();
    auto state = m_retry.run<DayState>(where, true, [&](bool& sent) {
        return state_of(send(storage::stat_request(m_options.endpoint, url, {}), sent), where);
    });
    if (!state.ok() && state.status().code() == Code::not_found) {
        return DayState{};
    }
    return state;
}

util::Result<DayState> GcsLedgerStore::compose_day(std::string_view day, const DayState& base,
                                                   const storage::GcsUrl& part,
                                                   std::int64_t part_generation,
                                                   const std::string& token, std::size_t history) {
    const storage::GcsUrl url = day_object(day);
    const std::string where = "compose " + url.to_string();
    std::vector<storage::ComposeSource> sources;
    if (base.exists) {
        sources.push_back(storage::ComposeSource{url.object, base.generation});
    }
    sources.push_back(storage::ComposeSource{part.object, part_generation});
    storage::Preconditions pre;
    pre.if_generation_match = base.exists ? base.generation : 0;

    std::vector<std::string> recent = base.recent;
    recent.push_back(token);
    const std::size_t keep = history > 0 ? history : 1;
    if (recent.size() > keep) {
        recent.erase(recent.begin(), recent.end() - static_cast<std::ptrdiff_t>(keep));
    }
    net::HttpRequest request =
        storage::compose_request(m_options.endpoint, url, sources, k_ledger_content_type, pre);
    json body = json::parse(request.body);
    body["destination"]["metadata"] = metadata_json(base.seq + 1, recent);
    request.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return m_retry.run<DayState>(where, true,
                                 [&](bool& sent) { return state_of(send(request, sent), where); });
}

util::Result<DayState> GcsLedgerStore::rewrite_day(std::string_view day, const DayState& current) {
    const storage::GcsUrl url = day_object(day);
    const std::string where = "rewrite " + url.to_string();
    const std::string base_url = storage::stat_request(m_options.endpoint, url, {}).url +
                                 "/rewriteTo/b/" + url.bucket + "/o/" +
                                 storage::percent_encode(url.object) +
                                 "?sourceGeneration=" + std::to_string(current.generation) +
                                 "&ifGenerationMatch=" + std::to_string(current.generation);
    const std::string body = json{{"contentType", k_ledger_content_type},
                                  {"metadata", metadata_json(current.seq, current.recent)}}
                                 .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    std::string rewrite_token;
    for (int call = 0; call < k_max_rewrite_calls; ++call) {
        net::HttpRequest request;
        request.method = "POST";
        request.url = base_url;
        if (!rewrite_token.empty()) {
            request.url += "&rewriteToken=" + storage::percent_encode(rewrite_token);
        }
        request.headers.emplace_back("Content-Type", "application/json; charset=UTF-8");
        request.body = body;
        TRY_ASSIGN(json answer,
                   m_retry.run<json>(where, true, [&](bool& sent) -> util::Result<json> {
                       auto r = send(request, sent);
                       if (!r.ok()) {
                           return r.status();
                       }
                       if (r->status != 200) {
                           return storage::gcs_error(*r, where);
                       }
                       json j = json::parse(r->body, nullptr, false);
                       if (j.is_discarded() || !j.is_object()) {
                           return Status(Code::bad_response, where + ": answer is not JSON");
                       }
                       return j;
                   }));
        if (answer.value("done", false)) {
            if (!answer.contains("resource")) {
                return Status(Code::bad_response, where + ": done without the object resource");
            }
            return parse_day_state(
                answer["resource"].dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                where);
        }
        rewrite_token = answer.value("rewriteToken", std::string());
        if (rewrite_token.empty()) {
            return Status(Code::bad_response, where + ": not done and no rewriteToken");
        }
    }
    return Status(Code::storage_io, where + ": still not done after " +
                                        std::to_string(k_max_rewrite_calls) + " calls");
}

util::Result<DayState> GcsLedgerStore::reupload_day(std::string_view day, const DayState& current) {
    const storage::GcsUrl url = day_object(day);
    const std::string where = "re-upload " + url.to_string();
    auto read = m_client.read(url, k_max_day_object_bytes, current.generation);
    if (!read.ok()) {
        return read.status().code() == Code::not_found ? changed_meanwhile(where) : read.status();
    }
    const std::string& data = read->data;
    std::string boundary = random_boundary();
    while (data.find(boundary) != std::string::npos) {
        boundary = random_boundary();
    }
    const json meta = {{"name", url.object},
                       {"contentType", k_ledger_content_type},
                       {"crc32c", storage::crc32c_base64(data)},
                       {"metadata", metadata_json(current.seq, current.recent)}};
    net::HttpRequest request;
    request.method = "POST";
    request.url = m_options.endpoint.base + "/upload/storage/v1/b/" + url.bucket +
                  "/o?uploadType=multipart&ifGenerationMatch=" + std::to_string(current.generation);
    request.headers.emplace_back("Content-Type", "multipart/related; boundary=" + boundary);
    request.body = "--" + boundary + "\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n" +
                   meta.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\r\n--" +
                   boundary + "\r\nContent-Type: " + k_ledger_content_type + "\r\n\r\n" + data +
                   "\r\n--" + boundary + "--\r\n";
    return m_retry.run<DayState>(where, true,
                                 [&](bool& sent) { return state_of(send(request, sent), where); });
}

util::Result<DayRead> GcsLedgerStore::read_day_from(std::string_view day, std::uint64_t offset,
                                                    std::int64_t unless_generation) {
    const storage::GcsUrl url = day_object(day);
    const std::string where = "read " + url.to_string();
    storage::Preconditions pre;
    if (unless_generation != 0) {
        pre.if_generation_not_match = unless_generation;
    }
    net::HttpRequest request = storage::read_request(m_options.endpoint, url, std::nullopt, pre);
    request.max_response_bytes = k_max_day_object_bytes;
    if (offset > 0) {
        request.headers.emplace_back("Range", "bytes=" + std::to_string(offset) + "-");
    }
    return m_retry.run<DayRead>(where, true, [&](bool& sent) -> util::Result<DayRead> {
        auto r = send(request, sent);
        if (!r.ok()) {
            return r.status();
        }
        DayRead out;
        out.generation = header_int(*r, "x-goog-generation");
        switch (r->status) {
            case 304:
                out.kind = DayRead::Kind::unchanged;
                out.generation = unless_generation;
                return out;
            case 404:
                out.kind = DayRead::Kind::absent;
                return out;
            case 416:
                out.kind = DayRead::Kind::shorter;
                return out;
            case 200: {
                // The whole object (no Range asked, or the server ignored it): its hash applies.
                const std::string expected = storage::goog_hash(*r, "crc32c");
                if (!expected.empty() && util::to_lower(r->header("content-encoding")) != "gzip" &&
                    storage::crc32c_base64(r->body) != expected) {
                    return Status(Code::bad_response, where + ": crc32c does not match");
                }
                out.kind = DayRead::Kind::data;
                out.start = 0;
                out.size = r->body.size();
                out.data = std::move(r->body);
                return out;
            }
            case 206: {
                std::uint64_t start = 0;
                std::uint64_t total = 0;
                if (!parse_content_range(r->header("content-range"), start, total)) {
                    return Status(Code::bad_response, where + ": 206 without a Content-Range");
                }
                out.kind = DayRead::Kind::data;
                out.start = start;
                out.size = total;
                out.data = std::move(r->body);
                return out;
            }
            default:
                return storage::gcs_error(*r, where);
        }
    });
}

util::Result<std::string> GcsLedgerStore::read_day(std::string_view day) {
    TRY_ASSIGN(storage::ObjectData data, m_client.read(day_object(day), k_max_day_object_bytes));
    return std::move(data.data);
}

util::Result<std::vector<DayObject>> GcsLedgerStore::list_days(const ReadOptions& options) {
    return list_day_objects(m_client, m_location, options);
}

util::Result<std::vector<DayObject>> list_day_objects(storage::GcsClient& client,
                                                      const storage::GcsUrl& location,
                                                      const ReadOptions& options) {
    std::string prefix = location.object;
    while (!prefix.empty() && prefix.back() == '/') {
        prefix.pop_back();
    }
    if (!prefix.empty()) {
        prefix += '/';
    }
    TRY_ASSIGN(auto listed, client.list(location.bucket, prefix));
    std::vector<DayObject> out;
    for (auto& item : listed) {
        std::string day;
        if (item.name.compare(0, prefix.size(), prefix) != 0 ||
            !is_day_file_name(std::string_view(item.name).substr(prefix.size()), &day)) {
            continue;
        }
        if ((!options.from_day.empty() && day < options.from_day) ||
            (!options.to_day.empty() && day > options.to_day)) {
            continue;
        }
        out.push_back(DayObject{day, storage::GcsUrl{location.bucket, std::move(item.name)},
                                item.generation, item.size});
    }
    std::sort(out.begin(), out.end(),
              [](const DayObject& a, const DayObject& b) { return a.day < b.day; });
    return out;
}

util::Result<std::unique_ptr<GcsConnection>> connect_gcs(const auth::Env& env, util::Clock& clock,
                                                         std::string scope) {
    auto c = std::make_unique<GcsConnection>();
    c->transport = std::make_unique<net::CurlTransport>();
    c->options.endpoint = storage::resolve_gcs_endpoint(env);
    TRY_ASSIGN(c->tokens, auth::default_token_source(env, *c->transport, clock, std::move(scope)));
    c->client =
        std::make_unique<storage::GcsClient>(*c->transport, c->tokens.get(), clock, c->options);
    return c;
}

}  // namespace assetgen::ledger
