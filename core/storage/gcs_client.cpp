// How this works: each public call validates its names, builds its request with gcs_wire, and
// hands one attempt to the retry loop together with Google's idempotency verdict for the call
// (reads always; writes only with a generation precondition). An attempt fetches a token (for
// a non-emulator endpoint, and only for URLs on the endpoint's own origin), sends, and maps
// the answer: 2xx to a value, anything else through gcs_error, so that 408/429/5xx and
// transport failures come back transient and the loop decides whether to go again. Uploads
// live in gcs_upload.cpp.

#include "storage/gcs_client.hpp"

#include <charconv>

#include "storage/crc32c.hpp"
#include "util/text.hpp"

namespace assetgen::storage {
namespace {

using util::Code;
using util::Status;

std::int64_t header_int(const net::HttpResponse& r, std::string_view name) {
    std::string v(util::trim(r.header(name)));
    std::int64_t out = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    return ec == std::errc() && p == v.data() + v.size() ? out : 0;
}

// Hides the value of upload_id (a resumable session URI is a bearer credential for that upload).
std::string hide_upload_id(std::string text) {
    constexpr std::string_view k_key = "upload_id=";
    for (std::size_t at = text.find(k_key); at != std::string::npos;
         at = text.find(k_key, at + k_key.size())) {
        std::size_t start = at + k_key.size();
        std::size_t end = text.find_first_of("& \t\r\n\"'", start);
        text.replace(start, (end == std::string::npos ? text.size() : end) - start, "[REDACTED]");
    }
    return text;
}

Status with_message(const Status& s, std::string message) {
    Status out(s.code(), std::move(message));
    out.with_http_status(s.http_status());
    if (s.retry_after()) {
        out.with_retry_after(*s.retry_after());
    }
    return out;
}

}  // namespace

std::string describe_gcs_request(const net::HttpRequest& request) {
    return hide_upload_id(request.describe());
}

GcsClient::GcsClient(net::HttpTransport& transport, auth::TokenSource* tokens, util::Clock& clock,
                     GcsClientOptions options)
    : m_transport(transport),
      m_tokens(tokens),
      m_clock(clock),
      m_options(std::move(options)),
      m_retry(m_options.retry, clock, m_options.jitter_seed, m_options.log) {
    while (!m_options.endpoint.base.empty() && m_options.endpoint.base.back() == '/') {
        m_options.endpoint.base.pop_back();
    }
}

std::unique_ptr<GcsClient> GcsClient::with_retry(const CallRetry& call) {
    GcsClientOptions options = m_options;
    if (call.policy) {
        options.retry.custom = call.policy;
    }
    if (call.on_retry) {
        options.retry.on_retry = [outer = m_options.retry.on_retry,
                                  inner = call.on_retry](const util::RetryNotice& n) {
            if (outer) {
                outer(n);
            }
            inner(n);
        };
    }
    options.jitter_seed = m_retry.draw();  // not the same jitter as every other view
    return std::make_unique<GcsClient>(m_transport, m_tokens, m_clock, std::move(options));
}

bool GcsClient::same_origin(const std::string& url) const {
    const std::string& base = m_options.endpoint.base;
    return url.compare(0, base.size(), base) == 0 &&
           (url.size() == base.size() || url[base.size()] == '/' || url[base.size()] == '?');
}

util::Result<net::HttpResponse> GcsClient::send(net::HttpRequest request, bool& sent) {
    request.timeout = m_options.timeout;
    if (m_tokens != nullptr && !m_options.endpoint.emulator && same_origin(request.url)) {
        auto token = m_tokens->token();
        if (!token.ok()) {
            sent = false;
            return with_message(token.status(),
                                util::redact("gcs: credentials (" + m_tokens->describe() +
                                             "): " + token.status().message()));
        }
        if (!token->empty()) {
            request.headers.emplace_back("Authorization", "Bearer " + *token);
        }
    }
    sent = true;
    auto response = m_transport.send(request);
    if (m_options.log && m_options.log_requests) {
        m_options.log("gcs: " + describe_gcs_request(request) + " → " +
                      (response.ok()
                           ? std::to_string(response->status)
                           : hide_upload_id(util::redact(response.status().to_string()))));
    }
    if (!response.ok()) {
        return with_message(response.status(),
                            hide_upload_id(util::redact(response.status().message())));
    }
    return response;
}

util::Result<ObjectMetadata> GcsClient::metadata_of(const util::Result<net::HttpResponse>& sent,
                                                    const std::string& where) {
    if (!sent.ok()) {
        return sent.status();
    }
    if (sent->status != 200 && sent->status != 201) {
        return gcs_error(*sent, where);
    }
    auto parsed = parse_object_metadata(sent->body);
    if (!parsed.ok()) {
        return with_message(parsed.status(), where + ": " + parsed.status().message());
    }
    return parsed;
}

util::Result<ObjectData> GcsClient::read(const GcsUrl& target, std::size_t max_bytes,
                                         std::optional<std::int64_t> generation,
                                         const Preconditions& pre) {
    TRY(validate_bucket_name(target.bucket));
    TRY(validate_object_name(target.object));
    const std::size_t cap = max_bytes > 0 ? max_bytes : m_options.max_read_bytes;
    const std::string where = "read " + target.to_string();
    return m_retry.run<ObjectData>(where, true, [&](bool& sent) -> util::Result<ObjectData> {
        net::HttpRequest request = read_request(m_options.endpoint, target, generation, pre);
        request.max_response_bytes = cap;
        auto response = send(std::move(request), sent);
        if (!response.ok()) {
            // BAD_RESPONSE may mean "over the cap": the metadata tells, and that is permanent.
            if (response.status().code() == Code::bad_response) {
                bool ignored = true;
                auto meta =
                    metadata_of(send(stat_request(m_options.endpoint, target, {}), ignored), where);
                if (meta.ok() && meta->size > cap) {
                    return Status(Code::storage_io,
                                  where + ": the object is " + std::to_string(meta->size) +
                                      " bytes, over the read limit of " + std::to_string(cap));
                }
            }
            return response.status();
        }
        if (response->status != 200) {
            return gcs_error(*response, where);
        }
        ObjectData out;
        out.generation = header_int(*response, "x-goog-generation");
        out.metageneration = header_int(*response, "x-goog-metageneration");
        out.data = std::move(response->body);
        std::string expected = goog_hash(*response, "crc32c");
        bool transcoded = util::to_lower(response->header("content-encoding")) == "gzip";
        if (!expected.empty() && !transcoded) {
            std::string actual = crc32c_base64(out.data);
            if (actual != expected) {
                return Status(Code::bad_response, where + ": crc32c " + actual +
                                                      " of the body does not match the "
                                                      "server's " +
                                                      expected);
            }
        }
        return out;
    });
}

util::Result<ObjectMetadata> GcsClient::stat(const GcsUrl& target, const Preconditions& pre) {
    TRY(validate_bucket_name(target.bucket));
    TRY(validate_object_name(target.object));
    const std::string where = "stat " + target.to_string();
    return m_retry.run<ObjectMetadata>(where, true, [&](bool& sent) {
        return metadata_of(send(stat_request(m_options.endpoint, target, pre), sent), where);
    });
}

util::Result<std::vector<ListedObject>> GcsClient::list(const std::string& bucket,
                                                        const std::string& prefix) {
    TRY(validate_bucket_name(bucket));
    TRY_ASSIGN(GcsUrl checked, parse_gcs_prefix(gcs_url(bucket, prefix)));
    const std::string where = "list " + checked.to_string();
    std::vector<ListedObject> out;
    std::string token;
    for (;;) {
        auto attempt = [&](bool& sent) -> util::Result<ListPage> {
            auto response =
                send(list_request(m_options.endpoint, bucket, prefix, token, 1000), sent);
            if (!response.ok()) {
                return response.status();
            }
            if (response->status != 200) {
                return gcs_error(*response, where);
            }
            return parse_list_page(response->body);
        };
        TRY_ASSIGN(ListPage page, m_retry.run<ListPage>(where, true, attempt));
        for (auto& item : page.items) {
            out.push_back(ListedObject{std::move(item.name), item.generation, item.size});
        }
        if (page.next_page_token.empty()) {
            break;
        }
        if (page.next_page_token == token) {
            return Status(Code::bad_response, where + ": the server repeated a page token");
        }
        token = std::move(page.next_page_token);
    }
    return out;
}

util::Status GcsClient::remove(const GcsUrl& target, std::optional<std::int64_t> generation,
                               const Preconditions& pre) {
    TRY(validate_bucket_name(target.bucket));
    TRY(validate_object_name(target.object));
    const std::string where = "delete " + target.to_string();
    bool idempotent = m_options.retry.idempotency.allows(
        GcsOp::objects_delete, generation.has_value() || pre.if_generation_match.has_value());
    auto done = m_retry.run<bool>(where, idempotent, [&](bool& sent) -> util::Result<bool> {
        auto response = send(delete_request(m_options.endpoint, target, generation, pre), sent);
        if (!response.ok()) {
            return response.status();
        }
        if (response->status != 204 && response->status != 200) {
            return gcs_error(*response, where);
        }
        return true;
    });
    return done.status();
}

util::Result<ObjectMetadata> GcsClient::compose(const GcsUrl& destination,
                                                const std::vector<ComposeSource>& sources,
                                                const std::string& content_type,
                                                const Preconditions& pre,
                                                const Metadata& metadata) {
    TRY(validate_bucket_name(destination.bucket));
    TRY(validate_object_name(destination.object));
    const std::string where = "compose " + destination.to_string();
    if (sources.empty() || sources.size() > k_max_compose_sources) {
        return Status(Code::invalid_input, where + ": compose takes 1 to 32 sources, not " +
                                               std::to_string(sources.size()));
    }
    for (const auto& s : sources) {
        TRY(validate_object_name(s.name));
    }
    bool idempotent = m_options.retry.idempotency.allows(GcsOp::objects_compose,
                                                         pre.if_generation_match.has_value());
    return m_retry.run<ObjectMetadata>(where, idempotent, [&](bool& sent) {
        return metadata_of(send(compose_request(m_options.endpoint, destination, sources,
                                                content_type, pre, metadata),
                                sent),
                           where);
    });
}

}  // namespace assetgen::storage
