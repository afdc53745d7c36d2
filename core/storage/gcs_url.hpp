#pragma once
// gs:// URLs and Cloud Storage's naming rules: parsing and validating "gs://bucket/object",
// and percent-encoding object names so that each is one JSON API path segment.

#include <string>
#include <string_view>

#include "util/status.hpp"

namespace assetgen::storage {

// A bucket and an object name in it (for a prefix, the object part may be "").
struct GcsUrl {
    std::string bucket;
    std::string object;
    // "gs://bucket/object".
    std::string to_string() const;
};

// Checks a bucket name against https://cloud.google.com/storage/docs/naming-buckets: 3-63
// characters of [a-z0-9_.-] (up to 222 with dots, each dot-separated part at most 63),
// starting and ending with a letter or digit, not an IPv4 address, not starting with "goog",
// not containing "google" or a look-alike. INVALID_INPUT naming the rule that is broken.
util::Status validate_bucket_name(std::string_view bucket);
// Checks an object name against https://cloud.google.com/storage/docs/objects#naming: 1-1024
// bytes of valid UTF-8, no CR or LF, not "." or "..", not below ".well-known/acme-challenge/".
// INVALID_INPUT naming the rule that is broken.
util::Status validate_object_name(std::string_view object);

// Parses "gs://bucket/object" with a valid bucket and a valid, non-empty object name.
// INVALID_INPUT otherwise.
util::Result<GcsUrl> parse_gcs_url(std::string_view url);
// Parses "gs://bucket", "gs://bucket/" or "gs://bucket/prefix"; the object part is a name prefix
// and may be empty. INVALID_INPUT for a bad bucket or a prefix that is not UTF-8, has CR/LF, or
// is over 1024 bytes.
util::Result<GcsUrl> parse_gcs_prefix(std::string_view url);

// "gs://bucket/object" from its parts (object may be "": "gs://bucket/").
std::string gcs_url(std::string_view bucket, std::string_view object);

// Percent-encodes every byte except the unreserved A-Z a-z 0-9 - . _ ~ (upper-case hex), so an
// object name becomes one path segment ('/' → %2F) and any string a safe query value.
std::string percent_encode(std::string_view s);

}  // namespace assetgen::storage
