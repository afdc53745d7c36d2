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

util::Status GcsStorage::put(const std::string& location, std::string_view data,
                             const std::string& content_type) {
    TRY_ASSIGN(GcsUrl target, parse_gcs_url(location));
    const std::string crc = crc32c_base64(data);
    Preconditions pre;
    pre.if_generation_match = 0;
    for (int round = 0; round < k_put_rounds; ++round) {
        auto stored = m_client->upload(target, data, content_type, pre);
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
        if (current->crc32c == crc && current->size == data.size() &&
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
