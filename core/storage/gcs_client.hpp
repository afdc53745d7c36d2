#pragma once
// A Cloud Storage JSON API client: transport (net::HttpTransport) → requests (gcs_wire) → one
// retry loop (gcs_retry) → redacted log lines. Uploads, reads, metadata, list, delete and
// compose, each with generation preconditions; writes are retried only when Google classes
// them idempotent (a generation precondition is present), reads always.

#include <cstddef>
#include <cstdint>
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
    util::Result<ObjectMetadata> upload(const GcsUrl& target, std::string_view data,
                                        const std::string& content_type,
                                        const Preconditions& pre = {});
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
    util::Result<ObjectMetadata> compose(const GcsUrl& destination,
                                         const std::vector<ComposeSource>& sources,
                                         const std::string& content_type,
                                         const Preconditions& pre = {});

    // The options in effect (endpoint without a trailing '/').
    const GcsClientOptions& options() const { return m_options; }

private:
    // Sends one request with credentials; sent = false when it failed before sending.
    util::Result<net::HttpResponse> send(net::HttpRequest request, bool& sent);
    // The object resource of a 2xx answer, else the error for it.
    util::Result<ObjectMetadata> metadata_of(const util::Result<net::HttpResponse>& sent,
                                             const std::string& where);
    util::Result<ObjectMetadata> upload_media(const GcsUrl& target, std::string_view data,
                                              const std::string& content_type,
                                              const Preconditions& pre, bool idempotent);
    util::Result<ObjectMetadata> upload_resumable(const GcsUrl& target, std::string_view data,
                                                  const std::string& content_type,
                                                  const Preconditions& pre);
    util::Result<std::string> start_session(const GcsUrl& target, std::uint64_t size,
                                            const std::string& content_type,
                                            const Preconditions& pre);
    bool same_origin(const std::string& url) const;

    net::HttpTransport& m_transport;
    auth::TokenSource* m_tokens;
    GcsClientOptions m_options;
    GcsRetryLoop m_retry;
};

// A request's printable form for logs: method and URL, redacted, with a resumable session's
// upload_id (which grants access to the session) hidden as well.
std::string describe_gcs_request(const net::HttpRequest& request);

}  // namespace assetgen::storage
