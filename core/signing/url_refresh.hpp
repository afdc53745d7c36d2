#pragma once
// Re-signing V4 signed URLs before they expire, and signing one URL on request: finding
// GOOG4-RSA-SHA256 URLs in any text (CSV, JSON, JSONL, HTML), reading back what they say about
// themselves (bucket, object, X-Goog-Date, X-Goog-Expires), and replacing only the bytes of the
// ones that expire within a threshold. Pure functions: the time comes in, signatures come from
// a Signer (a key file's RsaSigner, or auth::IamSigner).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "signing/v4.hpp"
#include "util/status.hpp"

namespace assetgen::signing {

// What a V4 signed URL says about itself.
struct SignedUrlInfo {
    std::string algorithm;             // X-Goog-Algorithm, e.g. "GOOG4-RSA-SHA256"
    std::string scheme;                // "https" (lower case)
    std::string host;                  // as in the URL, port included
    std::string bucket;                // see parse_signed_url for how it is told apart
    std::string object;                // decoded; "" for a bucket-level URL
    bool virtual_hosted = false;       // https://BUCKET.storage.googleapis.com/OBJECT
    std::string client_email;          // from X-Goog-Credential
    std::int64_t signed_at = 0;        // X-Goog-Date, Unix seconds
    std::int64_t expires_seconds = 0;  // X-Goog-Expires
    std::string signed_headers;        // X-Goog-SignedHeaders, e.g. "host"
    Pairs extra_query;                 // every other query parameter, decoded, in URL order
    // Unix seconds after which the URL no longer works.
    std::int64_t expires_at() const { return signed_at + expires_seconds; }
    // "gs://bucket/object".
    std::string gs_url() const;
};

// Parses a V4 signed URL ("X-Goog-Algorithm=GOOG4-..." with X-Goog-Credential, X-Goog-Date,
// X-Goog-Expires and X-Goog-Signature; parameter names in any case, as gcloud writes them in
// lower case). The bucket is the host's first part for "BUCKET.storage.<domain>" hosts, else the
// path's first segment (path style on storage.googleapis.com, an emulator, or any other host).
// INVALID_INPUT, naming the first thing missing, for anything else.
util::Result<SignedUrlInfo> parse_signed_url(std::string_view url);

// A V4 signed URL found in a text.
struct FoundUrl {
    std::size_t offset = 0;  // where its bytes start in the text
    std::size_t length = 0;  // how many bytes it spans there, escapes included
    std::string url;         // unescaped
    SignedUrlInfo info;
};

// Every V4 signed URL in text, in order. A URL runs from "http://" or "https://" over the
// characters a percent-encoded URL can hold (A-Z a-z 0-9 - . _ ~ % / ? & = : + @ [ ]), so the
// quotes, commas, spaces and angle brackets of CSV, JSON and HTML end it. Inside it, the
// escapes of JSON writers ("\/", "\u0026") and HTML ("&amp;") are read as the characters they
// stand for. URLs that are not V4 signed URLs are left out.
std::vector<FoundUrl> find_signed_urls(std::string_view text);

// True when the URL stops working within threshold_seconds of now (or already has):
// expires_at() <= now + threshold_seconds.
bool expires_within(const SignedUrlInfo& info, std::int64_t now, std::int64_t threshold_seconds);

// The URL that info describes, signed again at `at` for ttl_seconds: same scheme, host, bucket,
// object and extra query parameters, method GET, only the host signed, credential of signer (a
// signed-URL reference about to expire can be renewed this way before it is fetched).
// INVALID_INPUT for a TTL outside 1s..7d, or when the URL signed headers besides host or was
// HMAC-signed (it cannot be reproduced); the signer's Status otherwise.
util::Result<std::string> resign_url(const SignedUrlInfo& info, std::int64_t at,
                                     std::int64_t ttl_seconds, Signer& signer);

struct RefreshOptions {
    std::int64_t now = 0;                                 // Unix seconds: the new X-Goog-Date
    std::int64_t threshold_seconds = 300;                 // re-sign what expires within this
    std::int64_t ttl_seconds = k_max_expiration_seconds;  // new X-Goog-Expires, 1s..7d
    // When a re-signed URL is a JSON string followed by `,"<expiry_field>":N` and N is its old
    // expiry in ms (or s) since the epoch, N is rewritten to the new one in the same unit (the
    // manifest's "signed_url_expires"). "" turns this off.
    std::string expiry_field = "signed_url_expires";
};

// What happened to one signed URL.
struct UrlDecision {
    enum class Action { kept, refreshed, skipped };
    Action action = Action::kept;
    std::string location;             // gs://bucket/object (never the URL: it carries a signature)
    std::int64_t old_expires_at = 0;  // Unix seconds
    std::int64_t new_expires_at = 0;  // Unix seconds; 0 unless refreshed
    std::string reason;               // why it was skipped
};

struct RefreshResult {
    std::string text;                    // the new text; equal to the input when nothing changed
    std::size_t found = 0;               // V4 signed URLs seen
    std::size_t refreshed = 0;           // re-signed (the summary's urlRefreshes)
    std::size_t skipped = 0;             // expiring but impossible to re-sign (see reason)
    std::vector<UrlDecision> decisions;  // one per URL found, in text order
};

// Re-signs, at options.now for options.ttl_seconds, every V4 signed URL in text that expires
// within the threshold: same scheme, host, bucket, object and extra query parameters, method GET,
// signed headers "host", credential of signer. Only the bytes of those URLs change (written with
// the escapes the old one used), plus the companion expiry field (see RefreshOptions); every
// other byte stays as it was. A URL that appears several times is signed once. Skipped (left
// alone, counted): HMAC-signed URLs and URLs that signed headers besides host (their values are
// not in the URL). INVALID_INPUT for a TTL outside 1s..7d or a threshold below 0; the signer's
// Status when signing fails (then nothing is returned).
util::Result<RefreshResult> refresh_signed_urls(std::string_view text,
                                                const RefreshOptions& options, Signer& signer);

// One URL to sign (`assetgen refresh --sign`, `run --sign-urls`).
struct SignRequest {
    std::string method = "GET";  // GET, HEAD, PUT, POST or DELETE (upper or lower case)
    std::string bucket;
    std::string object;
    std::int64_t ttl_seconds = 3600;  // 1s..7d
    std::int64_t at = 0;              // signing time (X-Goog-Date), Unix seconds
    Pairs headers;                    // headers the request must carry (signed)
    Pairs query_parameters;           // extra parameters (generation, response-*, ...)
    // "[scheme://]host[:port]" of a storage emulator (STORAGE_EMULATOR_HOST); "" for
    // https://storage.googleapis.com.
    std::string emulator_host;
};

// A path-style V4 signed URL for the request. INVALID_INPUT, with a message a user can act on,
// for an unknown method, an empty bucket, or a TTL outside 1s..7d; the signer's Status otherwise.
util::Result<std::string> sign_url(const SignRequest& request, Signer& signer);

// Checks a TTL in milliseconds (as util::parse_duration gives it) and returns whole seconds.
// INVALID_INPUT, naming what (e.g. "--ttl"), when it is under 1 s, not whole seconds, or longer
// than 7 days (the V4 limit).
util::Result<std::int64_t> check_ttl(std::int64_t ttl_ms, std::string_view what);

// Parses "Name:value" (a --header flag) into a pair, both sides trimmed. INVALID_INPUT when
// there is no ':' or the name is empty or not an HTTP token.
util::Result<std::pair<std::string, std::string>> parse_header(std::string_view text);

// Parses a UTC time, "2024-03-05T06:07:08Z" (RFC 3339, fraction ignored, "Z" or "+00:00") or
// "20240305T060708Z" (X-Goog-Date), into Unix seconds. INVALID_INPUT otherwise.
util::Result<std::int64_t> parse_utc_time(std::string_view text);

}  // namespace assetgen::signing
