#pragma once
// Base64 (RFC 4648 §4, padded) and base64url (§5, unpadded on output) for JWTs, signBlob
// payloads, CRC32C/MD5 hashes and inline image data.

#include <string>
#include <string_view>

#include "util/status.hpp"

namespace assetgen::util {

// Standard alphabet with '=' padding.
std::string base64_encode(std::string_view bytes);
// Decodes the standard alphabet; padding optional, no whitespace. INVALID_INPUT otherwise.
Result<std::string> base64_decode(std::string_view text);
// URL-safe alphabet ('-', '_') without padding, as JWTs use.
std::string base64url_encode(std::string_view bytes);
// Decodes the URL-safe alphabet; padding optional. INVALID_INPUT otherwise.
Result<std::string> base64url_decode(std::string_view text);

}  // namespace assetgen::util
