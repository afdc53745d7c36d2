// How this works: every call goes through the Storage interface of Cloud Storage (GcsStorage,
// which owns the one GcsClient): stat with custom metadata, compose and copy (objects.rewrite)
// with metadata and ifGenerationMatch, ranged reads with ifGenerationNotMatch, writes with
// metadata. No request is built and no answer parsed here. Every write carries
// ifGenerationMatch, so the client may retry it; a retry whose first attempt was applied then
// meets 412, which callers resolve by reading the day object's metadata (gcs_append.cpp).

#include "ledger/gcs_ledger_store.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "auth/chain.hpp"
#include "util/hash.hpp"
#include "util/text.hpp"

namespace assetgen::ledger {
namespace {

using util::Code;
using util::Status;

constexpr const char* k_seq_key = "assetgen-seq";
constexpr const char* k_parts_key = "assetgen-parts";

std::int64_t to_int(std::string_view s) {
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return ec == std::errc() && p == s.data() + s.size() ? v : 0;
}

storage::Metadata metadata_of(std::int64_t seq, const std::vector<std::string>& recent) {
    std::string parts;
    for (const auto& t : recent) {
        parts += (parts.empty() ? "" : ",") + t;
    }
    return storage::Metadata{{k_seq_key, std::to_string(seq)}, {k_parts_key, parts}};
}

DayState state_of(const storage::ObjectInfo& info) {
    DayState s;
    s.exists = true;
    s.generation = info.generation;
    s.size = info.size;
    s.component_count = info.component_count;
    s.crc32c = info.crc32c;
    if (auto seq = info.metadata.find(k_seq_key); seq != info.metadata.end()) {
        s.seq = to_int(seq->second);
    }
    if (auto parts = info.metadata.find(k_parts_key); parts != info.metadata.end()) {
        s.recent = util::split_any(parts->second, ",");
    }
    return s;
}

storage::WriteOptions day_write(std::int64_t if_generation_match, storage::Metadata metadata) {
    storage::WriteOptions o;
    o.content_type = k_ledger_content_type;
    o.if_generation_match = if_generation_match;
    o.metadata = std::move(metadata);
    return o;
}

Status changed_meanwhile(const std::string& where) {
    Status s(Code::storage_io, where + ": the object changed meanwhile");
    s.with_http_status(412);
    return s;
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
    : m_storage(std::make_unique<storage::GcsClient>(transport, tokens, clock, std::move(options))),
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

util::Result<DayState> GcsLedgerStore::stat_day(std::string_view day) {
    auto info = m_storage.stat(day_object(day).to_string());
    if (!info.ok()) {
        if (info.status().code() == Code::not_found) {
            return DayState{};
        }
        return info.status();
    }
    return state_of(*info);
}

util::Result<DayState> GcsLedgerStore::compose_day(std::string_view day, const DayState& base,
                                                   const storage::GcsUrl& part,
                                                   std::int64_t part_generation,
                                                   const std::string& token, std::size_t history) {
    const std::string url = day_object(day).to_string();
    std::vector<storage::SourceObject> sources;
    if (base.exists) {
        sources.push_back(storage::SourceObject{url, base.generation});
    }
    sources.push_back(storage::SourceObject{part.to_string(), part_generation});
    std::vector<std::string> recent = base.recent;
    recent.push_back(token);
    const std::size_t keep = history > 0 ? history : 1;
    if (recent.size() > keep) {
        recent.erase(recent.begin(), recent.end() - static_cast<std::ptrdiff_t>(keep));
    }
    TRY_ASSIGN(storage::ObjectInfo info,
               m_storage.compose(url, sources,
                                 day_write(base.exists ? base.generation : 0,
                                           metadata_of(base.seq + 1, recent))));
    return state_of(info);
}

util::Result<DayState> GcsLedgerStore::rewrite_day(std::string_view day, const DayState& current) {
    const std::string url = day_object(day).to_string();
    TRY_ASSIGN(
        storage::ObjectInfo info,
        m_storage.copy(storage::SourceObject{url, current.generation}, url,
                       day_write(current.generation, metadata_of(current.seq, current.recent))));
    return state_of(info);
}

util::Result<DayState> GcsLedgerStore::reupload_day(std::string_view day, const DayState& current) {
    const std::string url = day_object(day).to_string();
    storage::ReadOptions at;
    at.generation = current.generation;
    at.max_bytes = k_max_day_object_bytes;
    auto read = m_storage.read(url, at);
    if (!read.ok()) {
        return read.status().code() == Code::not_found ? changed_meanwhile("re-upload " + url)
                                                       : read.status();
    }
    TRY_ASSIGN(
        storage::ObjectInfo info,
        m_storage.write(url, read->data,
                        day_write(current.generation, metadata_of(current.seq, current.recent))));
    return state_of(info);
}

util::Result<DayRead> GcsLedgerStore::read_day_from(std::string_view day, std::uint64_t offset,
                                                    std::int64_t unless_generation) {
    storage::ReadOptions options;
    options.offset = offset;
    options.max_bytes = k_max_day_object_bytes;
    if (unless_generation != 0) {
        options.if_generation_not_match = unless_generation;
    }
    auto got = m_storage.read(day_object(day).to_string(), options);
    DayRead out;
    if (!got.ok()) {
        if (got.status().code() == Code::not_found) {
            out.kind = DayRead::Kind::absent;
            return out;
        }
        return got.status();
    }
    out.generation = got->generation;
    switch (got->kind) {
        case storage::ObjectRead::Kind::unchanged:
            out.kind = DayRead::Kind::unchanged;
            out.generation = unless_generation;
            return out;
        case storage::ObjectRead::Kind::past_end:
            out.kind = DayRead::Kind::shorter;
            return out;
        case storage::ObjectRead::Kind::data:
            break;
    }
    out.kind = DayRead::Kind::data;
    out.start = got->start;
    out.size = got->size;
    out.data = std::move(got->data);
    return out;
}

util::Result<std::string> GcsLedgerStore::read_day(std::string_view day) {
    storage::ReadOptions options;
    options.max_bytes = k_max_day_object_bytes;
    TRY_ASSIGN(storage::ObjectRead got, m_storage.read(day_object(day).to_string(), options));
    return std::move(got.data);
}

util::Result<std::vector<DayObject>> GcsLedgerStore::list_days(const ReadOptions& options) {
    return list_day_objects(m_storage.client(), m_location, options);
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

util::Result<std::unique_ptr<GcsConnection>> connect_gcs(const auth::Env& env,
                                                         net::HttpTransport& transport,
                                                         util::Clock& clock,
                                                         storage::GcsClientOptions options,
                                                         std::string scope) {
    auto c = std::make_unique<GcsConnection>();
    c->options = std::move(options);
    TRY_ASSIGN(c->tokens, auth::default_token_source(env, transport, clock, std::move(scope)));
    c->client = std::make_unique<storage::GcsClient>(transport, c->tokens.get(), clock, c->options);
    return c;
}

}  // namespace assetgen::ledger
