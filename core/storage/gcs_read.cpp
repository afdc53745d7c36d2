// How this works: a ranged read is objects.get with alt=media and "Range: bytes=first-[last]"
// (https://cloud.google.com/storage/docs/json_api/v1/objects/get, "Range" header); the server
// answers 206 with "Content-Range: bytes first-last/total", 200 when it sent the whole object,
// 416 when first is at or past the end, and 304 when ifGenerationNotMatch still holds. A
// streamed read is a series of such reads of one chunk each: the first learns the generation
// and the next ones pin it (generation=G), so the bytes all come from one version even when a
// writer replaces the object meanwhile (then NOT_FOUND: that version is gone); the CRC32C of
// the whole object (x-goog-hash) is checked over the bytes as they pass. A rewrite is
// objects.rewrite, repeated with the rewriteToken until "done"
// (https://cloud.google.com/storage/docs/json_api/v1/objects/rewrite). Each HTTP call goes
// through the client's one retry loop.

#include <algorithm>
#include <charconv>

#include "storage/crc32c.hpp"
#include "storage/gcs_client.hpp"
#include "util/base64.hpp"
#include "util/text.hpp"

namespace assetgen::storage {
namespace {

using util::Code;
using util::Status;

// A rewrite of a large object may take several calls; this bounds a server that never ends.
constexpr int k_max_rewrite_calls = 1000;

std::int64_t header_int64(const net::HttpResponse& r, std::string_view name) {
    std::string v(util::trim(r.header(name)));
    std::int64_t out = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    return ec == std::errc() && p == v.data() + v.size() ? out : 0;
}

std::string crc32c_text(std::uint32_t crc) {
    const char bytes[4] = {static_cast<char>(crc >> 24), static_cast<char>(crc >> 16),
                           static_cast<char>(crc >> 8), static_cast<char>(crc)};
    return util::base64_encode(std::string_view(bytes, 4));
}

}  // namespace

util::Result<GcsClient::RangeRead> GcsClient::read_range(const GcsUrl& target, std::uint64_t offset,
                                                         std::optional<std::uint64_t> length,
                                                         std::optional<std::int64_t> generation,
                                                         const Preconditions& pre,
                                                         std::size_t max_bytes) {
    TRY(validate_bucket_name(target.bucket));
    TRY(validate_object_name(target.object));
    const std::string where = "read " + target.to_string();
    net::HttpRequest request = read_request(m_options.endpoint, target, generation, pre);
    request.max_response_bytes = max_bytes > 0 ? max_bytes : m_options.max_read_bytes;
    if (offset > 0 || length) {
        std::string range = "bytes=" + std::to_string(offset) + "-";
        if (length) {
            range += std::to_string(offset + std::max<std::uint64_t>(*length, 1) - 1);
        }
        request.headers.emplace_back("Range", std::move(range));
    }
    return m_retry.run<RangeRead>(where, true, [&](bool& sent) -> util::Result<RangeRead> {
        auto r = send(request, sent);
        if (!r.ok()) {
            if (net::is_body_too_large(r.status())) {
                return Status(Code::storage_io, where + ": the object is over the read limit of " +
                                                    std::to_string(request.max_response_bytes) +
                                                    " bytes");
            }
            return r.status();
        }
        RangeRead out;
        out.status = r->status;
        out.generation = header_int64(*r, "x-goog-generation");
        const bool transcoded = util::to_lower(r->header("content-encoding")) == "gzip";
        out.crc32c = transcoded ? std::string() : goog_hash(*r, "crc32c");
        switch (r->status) {
            case 304:
                out.generation = pre.if_generation_not_match.value_or(out.generation);
                return out;
            case 416:
                return out;
            case 200:
                if (!out.crc32c.empty() && crc32c_base64(r->body) != out.crc32c) {
                    return Status(Code::bad_response, where + ": crc32c does not match");
                }
                out.total = r->body.size();
                out.data = std::move(r->body);
                return out;
            case 206: {
                auto range = parse_content_range(r->header("content-range"));
                if (!range) {
                    return Status(Code::bad_response, where + ": 206 without a Content-Range");
                }
                out.start = range->first;
                out.total = range->second;
                out.data = std::move(r->body);
                return out;
            }
            default:
                return gcs_error(*r, where);
        }
    });
}

util::Result<ObjectMetadata> GcsClient::read_to(const GcsUrl& target, const ByteSink& sink,
                                                std::optional<std::int64_t> generation,
                                                std::uint64_t offset, std::uint64_t max_bytes,
                                                const Preconditions& pre, std::size_t chunk) {
    const std::string where = "read " + target.to_string();
    chunk = std::max<std::size_t>(chunk, 64 * 1024);
    std::uint32_t crc = 0;
    std::uint64_t at = offset;
    std::string expected;
    ObjectMetadata meta;
    meta.bucket = target.bucket;
    meta.name = target.object;
    for (bool first = true;; first = false) {
        Preconditions p = first ? pre : Preconditions{};
        TRY_ASSIGN(RangeRead part, read_range(target, at, chunk, generation, p, chunk + 1));
        if (part.status == 416) {
            if (first && at == 0) {
                // An empty object: no byte to range over; its metadata says which version.
                TRY_ASSIGN(ObjectMetadata empty, stat(target, pre));
                if (empty.size == 0) {
                    return empty;
                }
            }
            if (!first) {
                break;
            }
            return Status(Code::storage_io,
                          where + ": offset " + std::to_string(at) + " is past the object's end");
        }
        if (part.status == 304) {
            return Status(Code::bad_response, where + ": 304 to a read without that precondition");
        }
        if (first) {
            generation = part.generation != 0 ? std::optional(part.generation) : generation;
            meta.generation = part.generation;
            meta.size = part.total;
            expected = part.crc32c;
        } else if (part.generation != 0 && generation && part.generation != *generation) {
            return Status(Code::bad_response, where + ": the server sent another generation");
        }
        if (part.start != at || part.data.empty()) {
            return Status(Code::bad_response, where + ": the range answer starts at " +
                                                  std::to_string(part.start) + ", not " +
                                                  std::to_string(at));
        }
        if (max_bytes > 0 && at - offset + part.data.size() > max_bytes) {
            return Status(Code::storage_io, where + ": the object is over the read limit of " +
                                                std::to_string(max_bytes) + " bytes");
        }
        crc = crc32c(part.data, crc);
        at += part.data.size();
        TRY(sink(part.data));
        if (at >= part.total) {
            break;
        }
    }
    if (offset == 0 && !expected.empty() && crc32c_text(crc) != expected) {
        return Status(Code::bad_response, where + ": crc32c " + crc32c_text(crc) +
                                              " of the bytes read does not match the server's " +
                                              expected);
    }
    meta.crc32c = expected;
    return meta;
}

util::Result<ObjectMetadata> GcsClient::rewrite(
    const GcsUrl& source, std::optional<std::int64_t> source_generation, const GcsUrl& destination,
    const std::string& content_type, const Metadata& metadata, const Preconditions& pre) {
    TRY(validate_bucket_name(source.bucket));
    TRY(validate_object_name(source.object));
    TRY(validate_bucket_name(destination.bucket));
    TRY(validate_object_name(destination.object));
    const std::string where = "rewrite " + source.to_string() + " to " + destination.to_string();
    // Google's rule for rewrite is that of the writes: safe to repeat with ifGenerationMatch.
    const bool idempotent = m_options.retry.idempotency.allows(GcsOp::objects_compose,
                                                               pre.if_generation_match.has_value());
    std::string token;
    for (int call = 0; call < k_max_rewrite_calls; ++call) {
        const net::HttpRequest request =
            rewrite_request(m_options.endpoint, source, source_generation, destination,
                            content_type, metadata, pre, token);
        TRY_ASSIGN(RewriteStep step,
                   m_retry.run<RewriteStep>(
                       where, idempotent, [&](bool& sent) -> util::Result<RewriteStep> {
                           auto r = send(request, sent);
                           if (!r.ok()) {
                               return r.status();
                           }
                           if (r->status != 200) {
                               return gcs_error(*r, where);
                           }
                           auto parsed = parse_rewrite_answer(r->body);
                           if (!parsed.ok()) {
                               return Status(parsed.status().code(),
                                             where + ": " + parsed.status().message());
                           }
                           return parsed;
                       }));
        if (step.done) {
            return std::move(step.resource);
        }
        token = std::move(step.rewrite_token);
    }
    return Status(Code::storage_io, where + ": still not done after " +
                                        std::to_string(k_max_rewrite_calls) + " calls");
}

}  // namespace assetgen::storage
