#pragma once
// Shared by the two halves of util/json_view (parse: json_view.cpp; reading values:
// json_view_read.cpp): the \uXXXX escape's four hex digits. Not for other users.

#include "util/text.hpp"

namespace assetgen::util::json_detail {

// Four hex digits at p (p + 4 <= end), or -1.
inline int read_hex4(const unsigned char* p, const unsigned char* end) {
    if (end - p < 4) {
        return -1;
    }
    int v = 0;
    for (int k = 0; k < 4; ++k) {
        int h = hex_digit_value(static_cast<char>(p[k]));
        if (h < 0) {
            return -1;
        }
        v = (v << 4) | h;
    }
    return v;
}

}  // namespace assetgen::util::json_detail
