#pragma once
// Text from outside made safe for the JSON files assetgen writes (nlohmann's dump() throws on
// invalid UTF-8).

#include <cstddef>
#include <string>
#include <string_view>

namespace assetgen::util {

// Text from outside (a server's answer, a parser's "last read" token) made safe for JSON: every
// byte that is not part of a well-formed UTF-8 sequence becomes U+FFFD, and the result is cut
// to at most max_bytes at a character boundary, "..." appended when it was cut.
std::string utf8_clean(std::string_view text, std::size_t max_bytes = std::string::npos);

// True when text is well-formed UTF-8 (RFC 3629: no overlongs, surrogates or bytes past U+10FFFF).
bool is_utf8(std::string_view text);

}  // namespace assetgen::util
