#include "storage/gcs_storage.hpp"

#include <algorithm>

#include "storage/crc32c.hpp"

namespace assetgen::storage {
namespace {

using util::Code;
using util::Status;

// Create-only, then at most this many replace rounds when other writers get in between.
constexpr int k_put_rounds = 4;

std::string type_or_default(const std::string& content_type) {
    return content_type.empty() ? "application/octet-stream" : content_type;
}

}  // namespace

GcsStorage::GcsStorage(std::unique_ptr<GcsClient> client) : m_client(std::move(client)) {}

GcsClient& GcsStorage::client_for(const CallRetry& call, std::unique_ptr<GcsClient>& view) {
    if (call.empty()) {
        return *m_client;
    }
    view = m_client->with_retry(call);
    return *view;
}

util::Status GcsStorage::put(const std::string& location, std::string_view data,
                             const std::string& content_type) {
    TRY_ASSIGN(GcsUrl target, parse_gcs_url(location));
    return put_rounds(location, data.size(), crc32c_base64(data), content_type,
                      [&](const Preconditions& pre) {
                          return m_client->upload(target, data, content_type, pre);
                      });
}

util::Status GcsStorage::put_from_fd(const std::string& location, int fd, std::uint64_t size,
                                     const std::string& content_type) {
    TRY_ASSIGN(GcsUrl target, parse_gcs_url(location));
    const ByteSource source = fd_byte_source(fd, size, location);
    // The checksum that tells our own earlier write apart, read chunk by chunk.
    std::uint32_t crc = 0;
    std::string buf;
    for (std::uint64_t at = 0; at < size;) {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(1u << 20, size - at));
        TRY(source.read(at, n, buf));
        crc = crc32c(buf, crc);
        at += n;
    }
    buf = std::string();
    return put_rounds(location, size, crc32c_value_base64(crc), content_type,
                      [&](const Preconditions& pre) {
                          return m_client->upload_from(target, source, content_type, pre);
                      });
}

util::Status GcsStorage::put_rounds(
    const std::string& location, std::uint64_t size, const std::string& crc,
    const std::string& content_type,
    const std::function<util::Result<ObjectMetadata>(const Preconditions&)>& upload) {
    TRY_ASSIGN(GcsUrl target, parse_gcs_url(location));
    Preconditions pre;
    pre.if_generation_match = 0;
    for (int round = 0; round < k_put_rounds; ++round) {
        auto stored = upload(pre);
        if (stored.ok() || !is_precondition_failed(stored.status())) {
            return stored.status();
        }
        // Someone (maybe our own attempt whose answer was lost) wrote it first.
        auto current = m_client->stat(target);
        if (!current.ok()) {
            if (current.status().code() != Code::not_found) {
                return current.status();
            }
            pre.if_generation_match = 0;  // deleted in between: create it
            continue;
        }
        if (current->crc32c == crc && current->size == size &&
            current->content_type == type_or_default(content_type)) {
            return util::ok_status();
        }
        pre.if_generation_match = current->generation;
    }
    return Status(Code::storage_io, "put " + location +
                                        ": other writers kept replacing the "
                                        "object; gave up after " +
                                        std::to_string(k_put_rounds) + " rounds");
}

util::Result<std::string> GcsStorage::get(const std::string& location) {
    TRY_ASSIGN(GcsUrl target, parse_gcs_url(location));
    TRY_ASSIGN(ObjectData object, m_client->read(target));
    return std::move(object.data);
}

util::Result<bool> GcsStorage::exists(const std::string& location) {
    TRY_ASSIGN(GcsUrl target, parse_gcs_url(location));
    auto meta = m_client->stat(target);
    if (meta.ok()) {
        return true;
    }
    if (meta.status().code() == Code::not_found) {
        return false;
    }
    return meta.status();
}

util::Result<std::vector<std::string>> GcsStorage::list(const std::string& prefix) {
    TRY_ASSIGN(GcsUrl where, parse_gcs_prefix(prefix));
    TRY_ASSIGN(auto objects, m_client->list(where.bucket, where.object));
    std::vector<std::string> out;
    out.reserve(objects.size());
    for (const auto& o : objects) {
        out.push_back(gcs_url(where.bucket, o.name));
    }
    std::sort(out.begin(), out.end());
    return out;
}

namespace {

ObjectInfo info_of(const ObjectMetadata& m) {
    ObjectInfo info;
    info.generation = m.generation;
    info.size = m.size;
    info.component_count = m.component_count;
    info.content_type = m.content_type;
    info.crc32c = m.crc32c;
    info.metadata = m.metadata;
    return info;
}

Preconditions write_pre(const WriteOptions& options) {
    Preconditions pre;
    pre.if_generation_match = options.if_generation_match;
    return pre;
}

}  // namespace

util::Result<ObjectInfo> GcsStorage::stat(const std::string& location) {
    TRY_ASSIGN(GcsUrl target, parse_gcs_url(location));
    TRY_ASSIGN(ObjectMetadata meta, m_client->stat(target));
    return info_of(meta);
}

util::Result<ObjectInfo> GcsStorage::write(const std::string& location, std::string_view data,
                                           const WriteOptions& options) {
    TRY_ASSIGN(GcsUrl target, parse_gcs_url(location));
    std::unique_ptr<GcsClient> view;
    GcsClient& client = client_for(options.retry, view);
    TRY_ASSIGN(ObjectMetadata meta, client.upload(target, data, options.content_type,
                                                  write_pre(options), options.metadata));
    return info_of(meta);
}

util::Result<ObjectRead> GcsStorage::read(const std::string& location, const ReadOptions& options) {
    TRY_ASSIGN(GcsUrl target, parse_gcs_url(location));
    Preconditions pre;
    pre.if_generation_match = options.if_generation_match;
    pre.if_generation_not_match = options.if_generation_not_match;
    std::unique_ptr<GcsClient> view;
    GcsClient& client = client_for(options.retry, view);
    TRY_ASSIGN(auto got, client.read_range(target, options.offset, std::nullopt, options.generation,
                                           pre, static_cast<std::size_t>(options.max_bytes)));
    ObjectRead out;
    out.generation = got.generation;
    if (got.status == 304) {
        out.kind = ObjectRead::Kind::unchanged;
    } else if (got.status == 416) {
        out.kind = ObjectRead::Kind::past_end;
    } else {
        out.data = std::move(got.data);
        out.start = got.start;
        out.size = got.total;
    }
    return out;
}

util::Result<ObjectInfo> GcsStorage::read_to(const std::string& location, const ByteSink& sink,
                                             const ReadOptions& options) {
    TRY_ASSIGN(GcsUrl target, parse_gcs_url(location));
    Preconditions pre;
    pre.if_generation_match = options.if_generation_match;
    std::unique_ptr<GcsClient> view;
    GcsClient& client = client_for(options.retry, view);
    TRY_ASSIGN(ObjectMetadata meta,
               client.read_to(target, sink, options.generation, options.offset, options.max_bytes,
                              pre, client.options().read_chunk));
    return info_of(meta);
}

util::Result<ObjectInfo> GcsStorage::compose(const std::string& destination,
                                             const std::vector<SourceObject>& sources,
                                             const WriteOptions& options) {
    TRY_ASSIGN(GcsUrl target, parse_gcs_url(destination));
    std::vector<ComposeSource> parts;
    for (const auto& s : sources) {
        TRY_ASSIGN(GcsUrl source, parse_gcs_url(s.location));
        if (source.bucket != target.bucket) {
            return Status(Code::invalid_input, "compose " + destination + ": source \"" +
                                                   s.location +
                                                   "\" is in another bucket; compose joins "
                                                   "objects of one bucket");
        }
        parts.push_back(ComposeSource{source.object, s.generation});
    }
    std::unique_ptr<GcsClient> view;
    GcsClient& client = client_for(options.retry, view);
    TRY_ASSIGN(ObjectMetadata meta, client.compose(target, parts, options.content_type,
                                                   write_pre(options), options.metadata));
    return info_of(meta);
}

util::Result<ObjectInfo> GcsStorage::copy(const SourceObject& source,
                                          const std::string& destination,
                                          const WriteOptions& options) {
    TRY_ASSIGN(GcsUrl from, parse_gcs_url(source.location));
    TRY_ASSIGN(GcsUrl to, parse_gcs_url(destination));
    std::unique_ptr<GcsClient> view;
    GcsClient& client = client_for(options.retry, view);
    TRY_ASSIGN(ObjectMetadata meta,
               client.rewrite(from, source.generation, to, options.content_type, options.metadata,
                              write_pre(options)));
    return info_of(meta);
}

util::Result<std::unique_ptr<Storage>> make_storage_for(std::string_view location,
                                                        const StorageContext& context) {
    if (!is_gcs(location)) {
        return std::unique_ptr<Storage>(std::make_unique<LocalStorage>());
    }
    TRY(parse_gcs_prefix(location));
    if (context.transport == nullptr || context.clock == nullptr) {
        return Status(Code::config, std::string(location) +
                                        ": Cloud Storage needs an HTTP transport and a clock");
    }
    auto client = std::make_unique<GcsClient>(*context.transport, context.tokens, *context.clock,
                                              context.gcs);
    return std::unique_ptr<Storage>(std::make_unique<GcsStorage>(std::move(client)));
}

}  // namespace assetgen::storage
