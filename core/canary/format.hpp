#pragma once
// Numbers as the canary's gates and reports write them (internal to core/canary).

#include <cstdio>
#include <string>

namespace assetgen::canary::format {

// v with `decimals` digits after the point.
inline std::string fixed(double v, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

// A rate (0..1) as "12.34%".
inline std::string percent(double rate) {
    return fixed(rate * 100.0, 2) + "%";
}

// A p-value as people read it: 3 significant digits, "<1e-6" far in the tail.
inline std::string p_text(double p) {
    if (p < 1e-6) {
        return "<1e-6";
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g", p);
    return buf;
}

}  // namespace assetgen::canary::format
