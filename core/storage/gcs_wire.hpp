#pragma once
// The Cloud Storage JSON API on the wire, as pure functions: the endpoint (and emulator
// detection), the HTTP request of each operation (paths, query parameters, preconditions,
// upload types), and the parsing of object resources, list pages and error answers. Nothing
// here sends; GcsClient does. Reference: https://cloud.google.com/storage/docs/json_api/v1/objects

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/env.hpp"
#include "net/http.hpp"
#include "storage/gcs_url.hpp"
#include "storage/storage.hpp"
#include "util/status.hpp"

namespace assetgen::storage {

inline constexpr std::string_view k_gcs_default_endpoint = "https://storage.googleapis.com";
// At most this many sources per compose call (objects/compose reference).
inline constexpr std::size_t k_max_compose_sources = 32;
// Resumable chunks other than the last are multiples of this (performing-resumable-uploads).
inline constexpr std::size_t k_resumable_quantum = 256 * 1024;

// Where requests go, and whether they carry credentials.
struct GcsEndpoint {
    std::string base{k_gcs_default_endpoint};  // scheme://host[:port], no trailing '/'
    bool emulator = false;                     // true: never send an Authorization header
};

// STORAGE_EMULATOR_HOST, else CLOUD_STORAGE_EMULATOR_ENDPOINT (google-cloud-cpp's name), as
// "host:port" or a URL ("http://" when there is no scheme) → that endpoint without auth, as
// Google's client libraries do; else ASSETGEN_GCS_ENDPOINT (another endpoint that still takes
// credentials: a Private Service Connect name, or a test server; "https://" when there is no
// scheme); else https://storage.googleapis.com with auth.
GcsEndpoint resolve_gcs_endpoint(const auth::Env& env);

// Generation preconditions, sent as query parameters; a failed one answers HTTP 412
// (https://cloud.google.com/storage/docs/request-preconditions).
struct Preconditions {
    std::optional<std::int64_t> if_generation_match;  // 0: the object must not exist yet
    std::optional<std::int64_t> if_generation_not_match;
    std::optional<std::int64_t> if_metageneration_match;
    std::optional<std::int64_t> if_metageneration_not_match;
};

// The object resource fields assetgen uses.
struct ObjectMetadata {
    std::string bucket;
    std::string name;
    std::int64_t generation = 0;
    std::int64_t metageneration = 0;
    std::uint64_t size = 0;
    int component_count = 1;  // sources composed into it; 1 for a plain upload
    std::string content_type;
    std::string md5_hash;  // base64; "" on composite objects, which have none
    std::string crc32c;    // base64 of the big-endian CRC32C
    std::string updated;   // RFC 3339
    Metadata metadata;     // custom metadata ("metadata": {"key": "value"})
};

// One page of objects.list.
struct ListPage {
    std::vector<ObjectMetadata> items;
    std::vector<std::string> prefixes;
    std::string next_page_token;  // "" on the last page
};

// One source of a compose, in the destination's bucket.
struct ComposeSource {
    std::string name;
    std::optional<std::int64_t> if_generation_match;  // objectPreconditions.ifGenerationMatch
};

// POST {base}/upload/storage/v1/b/B/o?uploadType=media&name=N: the whole body in one request.
net::HttpRequest media_upload_request(const GcsEndpoint& endpoint, const GcsUrl& target,
                                      std::string data, const std::string& content_type,
                                      const Preconditions& pre);
// POST {base}/upload/storage/v1/b/B/o?uploadType=resumable&name=N with the metadata as JSON;
// the answer's Location is the session URI. Preconditions go here, not on the chunks.
net::HttpRequest resumable_start_request(const GcsEndpoint& endpoint, const GcsUrl& target,
                                         const std::string& content_type, std::uint64_t size,
                                         const Preconditions& pre, const Metadata& metadata = {});
// POST {base}/upload/storage/v1/b/B/o?uploadType=multipart: the object resource (name,
// contentType, crc32c, custom metadata) and the bytes as multipart/related (RFC 2387), for a
// small write that carries custom metadata. boundary must not occur in data.
net::HttpRequest multipart_upload_request(const GcsEndpoint& endpoint, const GcsUrl& target,
                                          std::string_view data, const std::string& content_type,
                                          const Metadata& metadata, const Preconditions& pre,
                                          const std::string& boundary);
// POST {base}/storage/v1/b/SB/o/SO/rewriteTo/b/DB/o/DO[?sourceGeneration=G][&rewriteToken=T]
// with the destination's contentType and metadata when given (objects/rewrite).
net::HttpRequest rewrite_request(const GcsEndpoint& endpoint, const GcsUrl& source,
                                 std::optional<std::int64_t> source_generation,
                                 const GcsUrl& destination, const std::string& content_type,
                                 const Metadata& metadata, const Preconditions& pre,
                                 const std::string& rewrite_token);
// One answer of objects.rewrite: done with the resource, or the token for the next call.
struct RewriteStep {
    bool done = false;
    std::string rewrite_token;
    ObjectMetadata resource;  // when done
};
// BAD_RESPONSE when it is not JSON, done without a resource, or not done without a token.
util::Result<RewriteStep> parse_rewrite_answer(std::string_view json);
// "bytes FIRST-LAST/TOTAL" of a 206 → (FIRST, TOTAL); nullopt for any other form.
std::optional<std::pair<std::uint64_t, std::uint64_t>> parse_content_range(std::string_view v);
// PUT session with "Content-Range: bytes first-last/*" ("/total" on the final chunk).
net::HttpRequest resumable_chunk_request(const std::string& session_url, std::string chunk,
                                         std::uint64_t offset, std::optional<std::uint64_t> total);
// PUT session, empty body, "Content-Range: bytes */total": asks how much the server kept.
net::HttpRequest resumable_status_request(const std::string& session_url, std::uint64_t total);
// GET {base}/storage/v1/b/B/o/ENC?alt=media[&generation=G] (a Range header is added by the
// caller for a ranged read).
net::HttpRequest read_request(const GcsEndpoint& endpoint, const GcsUrl& target,
                              std::optional<std::int64_t> generation, const Preconditions& pre);
// GET {base}/storage/v1/b/B/o/ENC: the object resource.
net::HttpRequest stat_request(const GcsEndpoint& endpoint, const GcsUrl& target,
                              const Preconditions& pre);
// GET {base}/storage/v1/b/B/o?prefix=P&maxResults=M[&pageToken=T].
net::HttpRequest list_request(const GcsEndpoint& endpoint, const std::string& bucket,
                              const std::string& prefix, const std::string& page_token,
                              int max_results);
// DELETE {base}/storage/v1/b/B/o/ENC[?generation=G].
net::HttpRequest delete_request(const GcsEndpoint& endpoint, const GcsUrl& target,
                                std::optional<std::int64_t> generation, const Preconditions& pre);
// POST {base}/storage/v1/b/B/o/ENC/compose with {"sourceObjects":[...],"destination":{...}};
// pre applies to the destination.
net::HttpRequest compose_request(const GcsEndpoint& endpoint, const GcsUrl& destination,
                                 const std::vector<ComposeSource>& sources,
                                 const std::string& content_type, const Preconditions& pre,
                                 const Metadata& metadata = {});

// Parses an object resource. BAD_RESPONSE when it is not JSON or lacks name or generation.
util::Result<ObjectMetadata> parse_object_metadata(std::string_view json);
// Parses an objects.list answer. BAD_RESPONSE when it is not a JSON object.
util::Result<ListPage> parse_list_page(std::string_view json);
// Bytes the server holds from a 308's Range header ("bytes=0-N" → N+1, absent → 0).
// BAD_RESPONSE for any other form.
util::Result<std::uint64_t> parse_persisted_bytes(std::string_view range_header);
// The value of one x-goog-hash entry ("crc32c" or "md5") in a header such as
// "crc32c=n03x6A==,md5=Ojk9c3dhfxgoKVVHYwFbHQ=="; "" when absent.
std::string goog_hash(const net::HttpResponse& response, std::string_view kind);

// The Status for a non-2xx answer, where naming the call: NOT_FOUND (404), AUTH_FAILED (401),
// PERMISSION_DENIED (403), TIMEOUT (408), MODEL_RATE_LIMIT (429), MODEL_UNAVAILABLE (5xx) and
// STORAGE_IO for the rest, 412 included; http_status() is always set, Retry-After carried. The
// message has the error's reason and message from Google's JSON, redacted and shortened.
util::Status gcs_error(const net::HttpResponse& response, std::string_view where);
// True for the answer to a failed precondition (STORAGE_IO with HTTP 412): the caller should
// re-read the generation and decide again; it is never retried as it stands.
bool is_precondition_failed(const util::Status& status);

}  // namespace assetgen::storage
