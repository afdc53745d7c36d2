#pragma once
// V4 signed URLs for Cloud Storage (GOOG4-RSA-SHA256), as pure functions: the caller injects
// the signing time, and a Signer turns the string-to-sign into signature bytes. Checked
// against Google's conformance vectors (tests/core/signing/v4_conformance_test.cpp).

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/status.hpp"

namespace assetgen::signing {

using Pairs = std::vector<std::pair<std::string, std::string>>;

// Produces raw signature bytes (RSA PKCS#1 v1.5 over SHA-256 for V4 URLs and JWTs).
class Signer {
public:
    virtual ~Signer() = default;
    // Signs bytes; the raw signature, or a Status (INTERNAL, or transient for remote signers).
    virtual util::Result<std::string> sign(std::string_view bytes) = 0;
    // The service account the signature belongs to (the V4 credential, the JWT issuer).
    virtual std::string client_email() const = 0;
};

enum class UrlStyle {
    path_style,             // https://storage.googleapis.com/BUCKET/OBJECT
    virtual_hosted,         // https://BUCKET.storage.googleapis.com/OBJECT
    bucket_bound_hostname,  // https://CNAME/OBJECT (bucket_bound_hostname)
};

// Longest lifetime a V4 signed URL may have: 7 days.
inline constexpr std::int64_t k_max_expiration_seconds = 604'800;

// Everything a V4 signed URL depends on. Host selection, most specific first: hostname, then
// client_endpoint, then emulator_host, then "storage." + universe_domain.
struct V4Options {
    std::string method = "GET";  // GET, PUT, HEAD, DELETE, POST (resumable start)
    std::string bucket;
    std::string object;                   // raw (unencoded) name; "" signs the bucket itself
    std::int64_t expiration_seconds = 0;  // 1..k_max_expiration_seconds
    std::int64_t timestamp = 0;           // signing time, Unix seconds (never read here)
    Pairs headers;                        // headers the request must carry, signed
    Pairs query_parameters;               // extra parameters (generation, response-*, ...)
    std::string scheme;                   // "" means https
    UrlStyle url_style = UrlStyle::path_style;
    std::string bucket_bound_hostname;  // host for UrlStyle::bucket_bound_hostname
    std::string hostname;               // "host[:port]" overriding every default
    std::string client_endpoint;        // "[scheme://]host[:port]" of a custom endpoint
    std::string emulator_host;          // "[scheme://]host[:port]" of a storage emulator
    std::string universe_domain;        // "" means googleapis.com
};

// The intermediate values of one signed URL (exposed for tests and debugging).
struct V4Parts {
    std::string url_base;           // "scheme://host[:port]/path", without the query
    std::string canonical_query;    // sorted, encoded, without X-Goog-Signature
    std::string canonical_request;  // what is hashed
    std::string string_to_sign;     // what is signed
};

// Percent-encodes every byte except A-Z a-z 0-9 - . _ ~ (and '/' when keep_slash), with
// upper-case hex, as V4 signing requires for paths (keep_slash) and query names and values.
std::string uri_encode(std::string_view bytes, bool keep_slash);

// "YYYYMMDDTHHMMSSZ" of a Unix time in seconds (UTC).
std::string goog_date_time(std::int64_t unix_seconds);

// The canonical headers block and signed-headers list for the given headers plus the host:
// names lower-cased and sorted, values trimmed with inner whitespace runs collapsed, duplicate
// names joined with ','. The block ends with '\n'.
std::pair<std::string, std::string> canonical_headers(const Pairs& headers, std::string_view host);

// Computes URL base, canonical request and string-to-sign. INVALID_INPUT for an empty
// bucket, an expiration outside 1..7 days, or a missing bucket_bound_hostname.
util::Result<V4Parts> v4_prepare(const V4Options& options, std::string_view client_email);

// The final URL: url_base + "?" + canonical_query + "&X-Goog-Signature=" + hex(signature).
std::string v4_assemble(const V4Parts& parts, std::string_view signature);

// Prepares, signs with signer (whose client_email is the credential) and assembles.
// Statuses from v4_prepare or the signer.
util::Result<std::string> v4_signed_url(const V4Options& options, Signer& signer);

}  // namespace assetgen::signing
