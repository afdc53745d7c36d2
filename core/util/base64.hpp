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

// Decodes either alphabet (standard or URL-safe, never both in one text; padding optional, no
// whitespace) into `out`, which has room for base64_decoded_size(text) bytes; returns how many
// it wrote. What base64_decode, or failing it base64url_decode, would return, without a second
// buffer: `out` may be text.data() or any address before it in the same buffer (each group of
// four characters is read before its three bytes are written, and the writing never overtakes
// the reading), so an answer's image can be decoded in place over its own base64. On
// INVALID_INPUT `out` holds garbage, and so may the text when it shares the buffer.
Result<std::size_t> base64_decode_into(std::string_view text, char* out);
// An upper bound of what base64_decode_into writes: 3 bytes per 4 characters.
constexpr std::size_t base64_decoded_size(std::string_view text) {
    return text.size() / 4 * 3 + 2;
}

}  // namespace assetgen::util
