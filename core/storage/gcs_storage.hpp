#pragma once
// The Storage seam on Cloud Storage (gs://bucket/name locations), and the factory that picks
// LocalStorage or GcsStorage for a location.

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "auth/token_source.hpp"
#include "net/http.hpp"
#include "storage/gcs_client.hpp"
#include "storage/storage.hpp"
#include "util/clock.hpp"
#include "util/status.hpp"

namespace assetgen::storage {

// Whole objects in Cloud Storage. put() writes create-only first (ifGenerationMatch=0), so a
// lost answer can be retried safely; when the object exists it is left alone if it already
// holds the same bytes (same CRC32C, size and type), else replaced under ifGenerationMatch of
// the generation seen. Thread-safe.
class GcsStorage final : public Storage {
public:
    // Owns the client.
    explicit GcsStorage(std::unique_ptr<GcsClient> client);

    // See Storage::put. INVALID_INPUT for a location that is not gs://bucket/object; STORAGE_IO
    // when concurrent writers keep replacing the object; the client's codes otherwise.
    util::Status put(const std::string& location, std::string_view data,
                     const std::string& content_type) override;
    // See Storage::put_from_fd: as put, the bytes read from fd one chunk at a time (a
    // resumable session above the client's threshold), never whole.
    util::Status put_from_fd(const std::string& location, int fd, std::uint64_t size,
                             const std::string& content_type) override;
    // See Storage::get; at most the client's max_read_bytes (STORAGE_IO beyond).
    util::Result<std::string> get(const std::string& location) override;
    // True when the object exists (objects.get of its metadata).
    util::Result<bool> exists(const std::string& location) override;
    // gs:// locations of the objects whose names start with the prefix's object part, sorted.
    util::Result<std::vector<std::string>> list(const std::string& prefix) override;

    // Generations and preconditions on the JSON API (objects.get with Range and
    // ifGenerationMatch/ifGenerationNotMatch, uploads with ifGenerationMatch, compose, rewrite).
    // compose's sources must be in the destination's bucket (INVALID_INPUT otherwise). read,
    // read_to, write, compose and copy follow the options' CallRetry when it is given.
    util::Result<ObjectInfo> stat(const std::string& location) override;
    util::Result<ObjectInfo> write(const std::string& location, std::string_view data,
                                   const WriteOptions& options) override;
    util::Result<ObjectRead> read(const std::string& location, const ReadOptions& options) override;
    util::Result<ObjectInfo> read_to(const std::string& location, const ByteSink& sink,
                                     const ReadOptions& options) override;
    util::Result<ObjectInfo> compose(const std::string& destination,
                                     const std::vector<SourceObject>& sources,
                                     const WriteOptions& options) override;
    util::Result<ObjectInfo> copy(const SourceObject& source, const std::string& destination,
                                  const WriteOptions& options) override;

    // The client, for callers that need generations, preconditions or compose (the ledger).
    GcsClient& client() { return *m_client; }

private:
    // The client for one call: the storage's own, or (call not empty) a view with the call's
    // retry rules, kept alive by view.
    GcsClient& client_for(const CallRetry& call, std::unique_ptr<GcsClient>& view);
    // put's rounds: create-only, then replace under the generation seen unless the object
    // already holds these bytes (size, crc, type); upload sends them under a precondition.
    util::Status put_rounds(
        const std::string& location, std::uint64_t size, const std::string& crc,
        const std::string& content_type,
        const std::function<util::Result<ObjectMetadata>(const Preconditions&)>& upload);

    std::unique_ptr<GcsClient> m_client;
};

// What make_storage_for needs to build a GcsStorage; unused for local locations.
struct StorageContext {
    net::HttpTransport* transport = nullptr;  // must outlive the storage
    auth::TokenSource* tokens = nullptr;      // nullptr: no Authorization header
    util::Clock* clock = nullptr;             // must outlive the storage
    GcsClientOptions gcs;                     // endpoint (resolve_gcs_endpoint), retries, limits
};

// LocalStorage for a path, GcsStorage for "gs://bucket[/prefix]". INVALID_INPUT for a bad
// gs:// URL; CONFIG_ERROR when a gs:// location comes without a transport or a clock.
util::Result<std::unique_ptr<Storage>> make_storage_for(std::string_view location,
                                                        const StorageContext& context);

}  // namespace assetgen::storage
