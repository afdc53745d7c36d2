#pragma once
// The objects of a ledger in Cloud Storage, gs://bucket/prefix (DESIGN.md §7):
//   prefix/YYYY-MM-DD.jsonl                                one object per UTC day, grown by compose
//   prefix/.parts/YYYY-MM-DD/<writer>-<first>-<end>.jsonl  a batch of lines on its way in
// and what the ledger does with them, all through the Storage interface of Cloud Storage
// (GcsStorage): compose and copy with custom metadata and ifGenerationMatch, ranged reads,
// writes with metadata. core/ledger holds no wire code of its own.
//
// Every compose copies two custom metadata fields of the day object forward:
//   assetgen-seq    how many composes built the object (a counter)
//   assetgen-parts  tokens of the last `history` parts composed into it, oldest first
// so that a writer whose compose answer was lost can tell whether it was applied.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "auth/env.hpp"
#include "auth/token_source.hpp"
#include "ledger/ledger_folder.hpp"
#include "net/http.hpp"
#include "storage/gcs_client.hpp"
#include "storage/gcs_storage.hpp"
#include "util/clock.hpp"
#include "util/status.hpp"

namespace assetgen::ledger {

// The content type of day objects and parts.
inline constexpr const char* k_ledger_content_type = "application/x-ndjson";
// Reads of whole day objects stop here (a day of a busy ledger is far smaller).
inline constexpr std::size_t k_max_day_object_bytes = std::size_t{1} << 30;

// What the ledger knows of a day object.
struct DayState {
    bool exists = false;
    std::int64_t generation = 0;  // 0 when it does not exist
    std::uint64_t size = 0;
    int component_count = 0;
    std::int64_t seq = 0;             // assetgen-seq: composes that built it
    std::vector<std::string> recent;  // assetgen-parts: tokens of the last parts, oldest first
    std::string crc32c;
    // True when token is among the recent parts.
    bool lists(std::string_view token) const;
};

// What a Range read of a day object found.
struct DayRead {
    enum class Kind {
        data,       // bytes from `start`
        unchanged,  // the generation is still the one given
        absent,     // no such object
        shorter,    // the object is shorter than the offset asked for (it was replaced)
    };
    Kind kind = Kind::absent;
    std::string data;
    std::uint64_t start = 0;  // offset of data[0] in the object
    std::uint64_t size = 0;   // the whole object's size (kind data)
    std::int64_t generation = 0;
};

// One day object of a listing.
struct DayObject {
    std::string day;  // "YYYY-MM-DD"
    storage::GcsUrl url;
    std::int64_t generation = 0;
    std::uint64_t size = 0;
};

// The day objects of the ledger at location (bucket and prefix) within options' bounds, in day
// order; part objects are not day objects. The client's codes when listing fails.
util::Result<std::vector<DayObject>> list_day_objects(storage::GcsClient& client,
                                                      const storage::GcsUrl& location,
                                                      const ReadOptions& options);

// A token naming a part in assetgen-parts: 16 hex digits of a stable hash of its object name.
std::string part_token(std::string_view part_object_name);

// Thread-safe when the transport, the token source and the log are.
class GcsLedgerStore {
public:
    // transport, tokens (nullptr: no Authorization header) and clock must outlive the store.
    GcsLedgerStore(net::HttpTransport& transport, auth::TokenSource* tokens, util::Clock& clock,
                   storage::GcsClientOptions options, storage::GcsUrl location);
    // For "gs://bucket[/prefix]". INVALID_INPUT for a bad URL; CONFIG_ERROR when the context
    // lacks a transport or a clock.
    static util::Result<std::unique_ptr<GcsLedgerStore>> open(
        std::string_view location, const storage::StorageContext& context);

    // The client for plain calls.
    storage::GcsClient& client() { return m_storage.client(); }
    // The storage the ledger's objects are in.
    storage::Storage& storage() { return m_storage; }
    // "gs://bucket/prefix" (no trailing '/').
    std::string describe() const;
    // This ledger's spool folder below a local root shared by every ledger (e.g. `run
    // --spool-dir`): <root>/ledger-<describe(), percent-encoded>, one per ledger, never two.
    std::string spool_dir_for(const std::string& root) const;
    // The object of a day's lines.
    storage::GcsUrl day_object(std::string_view day) const;
    // The object of a batch of writer's lines from spool offsets [first, end) of a day.
    storage::GcsUrl part_object(std::string_view day, std::string_view writer, std::uint64_t first,
                                std::uint64_t end) const;

    // The day object's state; exists = false when there is none.
    util::Result<DayState> stat_day(std::string_view day);
    // Composes [day object at base.generation (when it exists), part at part_generation] onto
    // the day object under ifGenerationMatch = base.generation (0: create), recording token in
    // assetgen-parts (the last `history` kept) and base.seq + 1 in assetgen-seq. STORAGE_IO with
    // HTTP 412 when someone else got there first, or when a retried attempt found its own lost
    // one applied: the caller decides which by reading the state again.
    util::Result<DayState> compose_day(std::string_view day, const DayState& base,
                                       const storage::GcsUrl& part, std::int64_t part_generation,
                                       const std::string& token, std::size_t history);
    // Rewrites the day object onto itself (same bytes and metadata, componentCount back to 1)
    // under ifGenerationMatch = current.generation. 412 when it changed meanwhile.
    util::Result<DayState> rewrite_day(std::string_view day, const DayState& current);
    // As rewrite_day by reading the bytes and uploading them again (multipart, with the
    // metadata) under ifGenerationMatch: the fallback when rewrite is refused or keeps the count.
    util::Result<DayState> reupload_day(std::string_view day, const DayState& current);
    // The day object's bytes from offset on (Range read), or unchanged when its generation is
    // still unless_generation (non-zero). For the budget's incremental reads.
    util::Result<DayRead> read_day_from(std::string_view day, std::uint64_t offset,
                                        std::int64_t unless_generation);
    // The whole day object (up to k_max_day_object_bytes). NOT_FOUND when there is none.
    util::Result<std::string> read_day(std::string_view day);
    // The day objects within options' bounds, in day order (parts are not listed).
    util::Result<std::vector<DayObject>> list_days(const ReadOptions& options);

private:
    std::string object_name(std::string_view relative) const;

    storage::GcsStorage m_storage;
    storage::GcsUrl m_location;  // object = the prefix without a trailing '/'
};

// The credential chain (DESIGN.md §8) and a client over the command's shared transport, owned
// together: what `assetgen ledger` needs to read a gs:// ledger.
struct GcsConnection {
    std::unique_ptr<auth::TokenSource> tokens;
    storage::GcsClientOptions options;
    std::unique_ptr<storage::GcsClient> client;
};
// Connects as env says (emulator, key file or metadata server) with the given OAuth scope, at
// options.endpoint, over transport (which, with clock, must outlive the connection).
// CONFIG_ERROR when a key file cannot be used.
util::Result<std::unique_ptr<GcsConnection>> connect_gcs(const auth::Env& env,
                                                         net::HttpTransport& transport,
                                                         util::Clock& clock,
                                                         storage::GcsClientOptions options,
                                                         std::string scope);

}  // namespace assetgen::ledger
