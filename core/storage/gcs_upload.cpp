// How this works: small bodies go up in one media request, retried only when it carries
// ifGenerationMatch (Google's rule for objects.insert). Larger ones open a resumable session
// (preconditions go on the opening POST; opening is always safe to repeat, since it creates no
// object) and then send chunks of a multiple of 256 KiB. The session URI is the idempotency
// key for the chunks: after a failed chunk the next attempt first asks the session how many
// bytes it holds ("Content-Range: bytes */TOTAL" → 308 with "Range: bytes=0-N", or 200/201
// when the upload already completed) and resumes from there, so a lost answer never writes
// twice. Each chunk gets the retry loop's full budget of attempts; only a chunk that makes no
// progress at all uses it up. https://cloud.google.com/storage/docs/performing-resumable-uploads

#include <algorithm>

#include "storage/crc32c.hpp"
#include "storage/gcs_client.hpp"
#include "util/text.hpp"

namespace assetgen::storage {
namespace {

using util::Code;
using util::Status;

// What one chunk exchange left behind: bytes the session holds, or the finished object.
struct Progress {
    std::uint64_t persisted = 0;
    std::optional<ObjectMetadata> done;
};

std::size_t normalised_chunk(std::size_t chunk) {
    return std::max(k_resumable_quantum, chunk / k_resumable_quantum * k_resumable_quantum);
}

// The bytes of a string, as a source.
ByteSource string_source(std::string_view data) {
    return ByteSource{data.size(), [data](std::uint64_t offset, std::size_t n, std::string& out) {
                          out.assign(data.substr(static_cast<std::size_t>(offset), n));
                          return util::ok_status();
                      }};
}

// The error when the server's CRC32C of the stored object is not the one of the bytes sent.
Status crc_mismatch(const GcsUrl& target, const std::string& stored, const std::string& sent) {
    return Status(Code::storage_io, "upload " + target.to_string() + ": the server stored crc32c " +
                                        stored + " but " + sent + " was sent");
}

}  // namespace

util::Result<ObjectMetadata> GcsClient::upload_from(const GcsUrl& target, const ByteSource& source,
                                                    const std::string& content_type,
                                                    const Preconditions& pre,
                                                    const Metadata& metadata) {
    if (source.size <= m_options.resumable_threshold) {
        std::string all;
        TRY(source.read(0, static_cast<std::size_t>(source.size), all));
        return upload(target, all, content_type, pre, metadata);
    }
    TRY(validate_bucket_name(target.bucket));
    TRY(validate_object_name(target.object));
    // The checksum to compare with the server's, chunk by chunk (nothing is held whole).
    const std::size_t chunk = normalised_chunk(m_options.chunk_size);
    std::uint32_t crc = 0;
    std::string buf;
    for (std::uint64_t at = 0; at < source.size;) {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk, source.size - at));
        TRY(source.read(at, n, buf));
        crc = crc32c(buf, crc);
        at += n;
    }
    buf = std::string();
    auto stored = upload_resumable(target, source, content_type, pre, metadata);
    if (!stored.ok()) {
        return stored;
    }
    const std::string sent = crc32c_value_base64(crc);
    if (!stored->crc32c.empty() && stored->crc32c != sent) {
        return crc_mismatch(target, stored->crc32c, sent);
    }
    return stored;
}

util::Result<ObjectMetadata> GcsClient::upload(const GcsUrl& target, std::string_view data,
                                               const std::string& content_type,
                                               const Preconditions& pre, const Metadata& metadata) {
    TRY(validate_bucket_name(target.bucket));
    TRY(validate_object_name(target.object));
    bool idempotent = m_options.retry.idempotency.allows(GcsOp::objects_insert,
                                                         pre.if_generation_match.has_value());
    auto stored = data.size() > m_options.resumable_threshold
                      ? upload_resumable(target, string_source(data), content_type, pre, metadata)
                      : upload_media(target, data, content_type, pre, idempotent, metadata);
    if (!stored.ok()) {
        return stored;
    }
    std::string sent = crc32c_base64(data);
    if (!stored->crc32c.empty() && stored->crc32c != sent) {
        return crc_mismatch(target, stored->crc32c, sent);
    }
    return stored;
}

util::Result<ObjectMetadata> GcsClient::upload_media(const GcsUrl& target, std::string_view data,
                                                     const std::string& content_type,
                                                     const Preconditions& pre, bool idempotent,
                                                     const Metadata& metadata) {
    const std::string where = "upload " + target.to_string();
    if (!metadata.empty()) {
        // Custom metadata needs the multipart form: the resource, then the bytes.
        std::string boundary = "assetgen-" + crc32c_base64(data) + "-boundary";
        for (int salt = 0; data.find(boundary) != std::string_view::npos; ++salt) {
            boundary = "assetgen-" + std::to_string(salt) + "-" + crc32c_base64(boundary);
        }
        return m_retry.run<ObjectMetadata>(where, idempotent, [&](bool& sent) {
            return metadata_of(send(multipart_upload_request(m_options.endpoint, target, data,
                                                             content_type, metadata, pre, boundary),
                                    sent),
                               where);
        });
    }
    return m_retry.run<ObjectMetadata>(where, idempotent, [&](bool& sent) {
        return metadata_of(send(media_upload_request(m_options.endpoint, target, std::string(data),
                                                     content_type, pre),
                                sent),
                           where);
    });
}

util::Result<std::string> GcsClient::start_session(const GcsUrl& target, std::uint64_t size,
                                                   const std::string& content_type,
                                                   const Preconditions& pre,
                                                   const Metadata& metadata) {
    const std::string where = "upload " + target.to_string() + " (start session)";
    return m_retry.run<std::string>(where, true, [&](bool& sent) -> util::Result<std::string> {
        auto response = send(
            resumable_start_request(m_options.endpoint, target, content_type, size, pre, metadata),
            sent);
        if (!response.ok()) {
            return response.status();
        }
        if (response->status != 200 && response->status != 201) {
            return gcs_error(*response, where);
        }
        std::string location(util::trim(response->header("location")));
        if (location.empty()) {
            return Status(Code::bad_response, where + ": no Location header in the answer");
        }
        if (location.front() == '/') {  // relative: on the endpoint's origin
            location = m_options.endpoint.base + location;
        }
        return location;
    });
}

util::Result<ObjectMetadata> GcsClient::upload_resumable(const GcsUrl& target,
                                                         const ByteSource& source,
                                                         const std::string& content_type,
                                                         const Preconditions& pre,
                                                         const Metadata& metadata) {
    const std::string where = "upload " + target.to_string();
    const std::uint64_t total = source.size;
    const std::size_t chunk = normalised_chunk(m_options.chunk_size);
    TRY_ASSIGN(const std::string session,
               start_session(target, total, content_type, pre, metadata));

    // One answer of the session: 308 = progress, 200/201 = finished, 404/410 = session gone.
    auto interpret = [&](const util::Result<net::HttpResponse>& answer) -> util::Result<Progress> {
        if (!answer.ok()) {
            return answer.status();
        }
        const int code = answer->status;
        if (code == 200 || code == 201) {
            TRY_ASSIGN(ObjectMetadata m, metadata_of(answer, where));
            return Progress{total, std::move(m)};
        }
        if (code == 308) {
            TRY_ASSIGN(std::uint64_t held, parse_persisted_bytes(answer->header("range")));
            return Progress{held, std::nullopt};
        }
        if (code == 404 || code == 410) {
            Status gone(Code::storage_io, where +
                                              ": the upload session expired or was cancelled "
                                              "(HTTP " +
                                              std::to_string(code) + ")");
            gone.with_http_status(code);
            return gone;
        }
        return gcs_error(*answer, where);
    };

    std::uint64_t offset = 0;
    bool ask_first = false;            // the last chunk failed: ask the session what it kept
    std::optional<Status> unreadable;  // the source failed: not worth a retry
    std::string body;
    int stalled = 0;
    for (;;) {
        const std::string what = where + " (bytes from " + std::to_string(offset) + ")";
        auto attempt = [&](bool& sent) -> util::Result<Progress> {
            if (ask_first) {
                TRY_ASSIGN(Progress held,
                           interpret(send(resumable_status_request(session, total), sent)));
                ask_first = false;
                if (held.done) {
                    return held;
                }
                offset = std::min(held.persisted, total);
            }
            const std::size_t n =
                static_cast<std::size_t>(std::min<std::uint64_t>(chunk, total - offset));
            const bool last = offset + n == total;
            if (Status read = source.read(offset, n, body); !read.ok()) {
                unreadable = read;
                return read;
            }
            auto answer = interpret(send(
                resumable_chunk_request(session, std::move(body), offset,
                                        last ? std::optional<std::uint64_t>(total) : std::nullopt),
                sent));
            if (!answer.ok()) {
                ask_first = true;
            }
            return answer;
        };
        auto progress = m_retry.run<Progress>(what, true, attempt);
        if (unreadable) {
            return *unreadable;
        }
        TRY_ASSIGN(Progress p, std::move(progress));
        if (p.done) {
            return std::move(*p.done);
        }
        if (p.persisted > total) {
            return Status(Code::bad_response, where + ": the session claims " +
                                                  std::to_string(p.persisted) + " of " +
                                                  std::to_string(total) + " bytes");
        }
        stalled = p.persisted > offset ? 0 : stalled + 1;
        if (stalled >= m_retry.policy().max_attempts) {
            return Status(Code::unavailable, where + ": the upload session makes no progress at " +
                                                 std::to_string(offset) + " bytes");
        }
        offset = p.persisted;
    }
}

}  // namespace assetgen::storage
