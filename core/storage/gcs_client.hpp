#pragma once
// A Cloud Storage JSON API client: transport (net::HttpTransport) → requests (gcs_wire) → one
// retry loop (gcs_retry) → redacted log lines. Uploads, reads, metadata, list, delete and
// compose, each with generation preconditions; writes are retried only when Google classes
// them idempotent (a generation precondition is present), reads always.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/token_source.hpp"
#include "net/http.hpp"
#include "storage/gcs_retry.hpp"
#include "storage/gcs_url.hpp"
#include "storage/gcs_wire.hpp"
#include "util/clock.hpp"
#include "util/status.hpp"

namespace assetgen::storage {

struct GcsClientOptions {
    GcsEndpoint endpoint;  // see resolve_gcs_endpoint
    // Bodies above this go through a resumable session (gcloud's and python-storage's 8 MiB).
    std::size_t resumable_threshold = 8u << 20;
    // Bytes per resumable chunk; rounded down to a multiple of 256 KiB (at least 256 KiB).
    std::size_t chunk_size = 8u << 20;
    std::size_t max_read_bytes = 64u << 20;      // default cap of read()
    std::size_t read_chunk = 8u << 20;           // bytes per ranged read of a streamed read
    std::chrono::milliseconds timeout{120'000};  // per HTTP request
    GcsRetryOptions retry;
    std::uint64_t jitter_seed = 0x5eed;
    GcsLog log;                 // retry decisions, redacted; none when empty
    bool log_requests = false;  // also one line per request: "gcs: PUT <url> → 308" (redacted)
};

// An object's bytes and the generation they belong to.
struct ObjectData {
    std::string data;
    std::int64_t generation = 0;  // from x-goog-generation; 0 when the server sent none
    std::int64_t metageneration = 0;
};

// One object of a listing.
struct ListedObject {
    std::string name;
    std::int64_t generation = 0;
    std::uint64_t size = 0;
};

// Thread-safe when the transport, the token source and the log callback are.
class GcsClient {
public:
    // tokens == nullptr, or an emulator endpoint, means no Authorization header. transport,
    // clock and tokens must outlive the client.
    GcsClient(net::HttpTransport& transport, auth::TokenSource* tokens, util::Clock& clock,
              GcsClientOptions options = {});

    // Writes a whole object (media upload, or a resumable session above the threshold; an
    // interrupted chunk resumes from what the server reports it kept). The stored CRC32C is
    // checked against data's. Preconditions as in is_precondition_failed; retried on
    // transient failures only with pre.if_generation_match.
    // Custom metadata, when given, goes up with the bytes (multipart, or the session's resource).
    util::Result<ObjectMetadata> upload(const GcsUrl& target, std::string_view data,
                                        const std::string& content_type,
                                        const Preconditions& pre = {},
                                        const Metadata& metadata = {});
    // The same, with the bytes read from source as they are sent: a body above the resumable
    // threshold is never held whole (one chunk at a time; its CRC32C is computed in a first
    // pass over the source). At or below the threshold it is read whole and goes to upload().
    util::Result<ObjectMetadata> upload_from(const GcsUrl& target, const ByteSource& source,
                                             const std::string& content_type,
                                             const Preconditions& pre = {},
                                             const Metadata& metadata = {});
    // Reads a whole object (alt=media), checking x-goog-hash's CRC32C when present. NOT_FOUND
    // when missing; STORAGE_IO when it is larger than max_bytes (0: options' max_read_bytes).
    util::Result<ObjectData> read(const GcsUrl& target, std::size_t max_bytes = 0,
                                  std::optional<std::int64_t> generation = std::nullopt,
                                  const Preconditions& pre = {});
    // The object's metadata. NOT_FOUND when missing.
    util::Result<ObjectMetadata> stat(const GcsUrl& target, const Preconditions& pre = {});
    // Every object whose name starts with prefix, in name order, across all pages.
    util::Result<std::vector<ListedObject>> list(const std::string& bucket,
                                                 const std::string& prefix);
    // Deletes the live object, or that generation. NOT_FOUND when missing; retried only with
    // a generation or pre.if_generation_match.
    util::Status remove(const GcsUrl& target, std::optional<std::int64_t> generation = std::nullopt,
                        const Preconditions& pre = {});
    // Concatenates 1-32 sources of destination's bucket into destination (pre applies to it:
    // if_generation_match 0 = must not exist yet). INVALID_INPUT for 0 or more than 32 sources;
    // retried only with pre.if_generation_match.
    // The destination gets metadata as its custom metadata (compose copies none from sources).
    util::Result<ObjectMetadata> compose(const GcsUrl& destination,
                                         const std::vector<ComposeSource>& sources,
                                         const std::string& content_type,
                                         const Preconditions& pre = {},
                                         const Metadata& metadata = {});
    // A ranged read (Range: bytes=offset-), alt=media: status 206 (or 200 when the whole object
    // came back) with data from start, 304 when pre.if_generation_not_match still holds, 416
    // when offset is at or past the end. NOT_FOUND when missing; 412 for a failed
    // if_generation_match. At most max_bytes (0: the options' max_read_bytes) are taken.
    struct RangeRead {
        int status = 0;
        std::string data;
        std::uint64_t start = 0;
        std::uint64_t total = 0;  // the whole object's size
        std::int64_t generation = 0;
        std::string crc32c;  // the whole object's, from x-goog-hash ("" when absent)
    };
    util::Result<RangeRead> read_range(const GcsUrl& target, std::uint64_t offset,
                                       std::optional<std::uint64_t> length,
                                       std::optional<std::int64_t> generation,
                                       const Preconditions& pre = {}, std::size_t max_bytes = 0);
    // Streams the object (that generation, else the live one, then pinned) into sink in ranged
    // reads of chunk bytes, checking the whole CRC32C at the end; never holds more than a
    // chunk. STORAGE_IO above max_bytes (0: no limit); the sink's status when it stops.
    util::Result<ObjectMetadata> read_to(const GcsUrl& target, const ByteSink& sink,
                                         std::optional<std::int64_t> generation,
                                         std::uint64_t offset, std::uint64_t max_bytes,
                                         const Preconditions& pre = {},
                                         std::size_t chunk = 8u << 20);
    // objects.rewrite of source (that generation when given) onto destination, repeating with
    // the rewriteToken until done (Google may need several calls for large objects);
    // content_type and metadata, when given, replace the source's. Retried with
    // pre.if_generation_match only.
    util::Result<ObjectMetadata> rewrite(const GcsUrl& source,
                                         std::optional<std::int64_t> source_generation,
                                         const GcsUrl& destination, const std::string& content_type,
                                         const Metadata& metadata, const Preconditions& pre = {});

    // The options in effect (endpoint without a trailing '/').
    const GcsClientOptions& options() const { return m_options; }

    // A client on the same transport, tokens and clock whose calls follow call's retry rules
    // (CallRetry: its policy in place of options().retry's attempts and backoff, its on_retry
    // hook); the idempotency rules stay. This client must outlive it.
    std::unique_ptr<GcsClient> with_retry(const CallRetry& call);

private:
    // Sends one request with credentials; sent = false when it failed before sending.
    util::Result<net::HttpResponse> send(net::HttpRequest request, bool& sent);
    // The object resource of a 2xx answer, else the error for it.
    util::Result<ObjectMetadata> metadata_of(const util::Result<net::HttpResponse>& sent,
                                             const std::string& where);
    util::Result<ObjectMetadata> upload_media(const GcsUrl& target, std::string_view data,
                                              const std::string& content_type,
                                              const Preconditions& pre, bool idempotent,
                                              const Metadata& metadata);
    util::Result<ObjectMetadata> upload_resumable(const GcsUrl& target, const ByteSource& source,
                                                  const std::string& content_type,
                                                  const Preconditions& pre,
                                                  const Metadata& metadata);
    util::Result<std::string> start_session(const GcsUrl& target, std::uint64_t size,
                                            const std::string& content_type,
                                            const Preconditions& pre, const Metadata& metadata);
    bool same_origin(const std::string& url) const;

    net::HttpTransport& m_transport;
    auth::TokenSource* m_tokens;
    util::Clock& m_clock;
    GcsClientOptions m_options;
    GcsRetryLoop m_retry;
};

// A request's printable form for logs: method and URL, redacted, with a resumable session's
// upload_id (which grants access to the session) hidden as well.
std::string describe_gcs_request(const net::HttpRequest& request);

}  // namespace assetgen::storage
