#include "util/text.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <regex>

namespace assetgen::util {

Result<std::chrono::milliseconds> parse_duration(std::string_view text) {
    std::string_view s = trim(text);
    auto bad = [&] {
        return error(Code::invalid_input,
                     "duration \"" + std::string(text) + "\" is not like 250ms, 90s, 5m, 1h or 7d");
    };
    if (s == "0") {
        return std::chrono::milliseconds(0);
    }
    size_t i = 0;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) {
        ++i;
    }
    if (i == 0 || i == s.size()) {
        return bad();
    }
    double value = 0;
    try {
        size_t used = 0;
        value = std::stod(std::string(s.substr(0, i)), &used);
        if (used != i) {
            return bad();
        }
    } catch (...) {
        return bad();
    }
    std::string_view unit = s.substr(i);
    double ms_per_unit = 0;
    if (unit == "ms") {
        ms_per_unit = 1;
    } else if (unit == "s") {
        ms_per_unit = 1000;
    } else if (unit == "m" || unit == "min") {
        ms_per_unit = 60e3;
    } else if (unit == "h") {
        ms_per_unit = 3600e3;
    } else if (unit == "d") {
        ms_per_unit = 86400e3;
    } else {
        return bad();
    }
    double ms = value * ms_per_unit;
    if (!std::isfinite(ms) || ms > 1e15) {
        return bad();
    }
    return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(ms)));
}

std::string format_duration(std::chrono::milliseconds d) {
    std::int64_t ms = d.count();
    std::string sign;
    if (ms < 0) {
        sign = "-";
        ms = -ms;
    }
    if (ms < 1000) {
        return sign + std::to_string(ms) + "ms";
    }
    if (ms < 60'000) {
        char buf[32];
        if (ms % 1000 == 0) {
            std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(ms / 1000));
        } else {
            std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(ms) / 1000.0);
        }
        return sign + buf;
    }
    std::int64_t s = ms / 1000;
    std::int64_t days = s / 86400, hours = s / 3600 % 24, mins = s / 60 % 60, secs = s % 60;
    std::string out = sign;
    if (days) {
        out += std::to_string(days) + "d";
    }
    if (hours) {
        out += std::to_string(hours) + "h";
    }
    if (mins && days == 0) {
        out += std::to_string(mins) + "m";
    }
    if (secs && days == 0 && hours == 0) {
        out += std::to_string(secs) + "s";
    }
    return out;
}

std::string_view trim(std::string_view s) {
    const char* ws = " \t\r\n\f\v";
    auto b = s.find_first_not_of(ws);
    if (b == std::string_view::npos) {
        return {};
    }
    auto e = s.find_last_not_of(ws);
    return s.substr(b, e - b + 1);
}

std::string to_lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

std::vector<std::string> split_any(std::string_view s, std::string_view separators) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= s.size()) {
        size_t end = s.find_first_of(separators, start);
        if (end == std::string_view::npos) {
            end = s.size();
        }
        if (end > start) {
            out.emplace_back(s.substr(start, end - start));
        }
        start = end + 1;
    }
    return out;
}

bool starts_with(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
}

namespace {
std::tm utc_tm(std::int64_t unix_ms) {
    std::time_t t =
        static_cast<std::time_t>(unix_ms >= 0 ? unix_ms / 1000 : (unix_ms - 999) / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    return tm;
}
}  // namespace

std::string utc_date(std::int64_t unix_ms) {
    std::tm tm = utc_tm(unix_ms);
    char buf[48];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    return buf;
}

std::string utc_timestamp(std::int64_t unix_ms) {
    std::tm tm = utc_tm(unix_ms);
    char buf[96];
    int ms = static_cast<int>(((unix_ms % 1000) + 1000) % 1000);
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
    return buf;
}

Micros to_micros(double dollars) {
    return static_cast<Micros>(std::llround(dollars * 1e6));
}

double to_dollars(Micros micros) {
    return static_cast<double>(micros) / 1e6;
}

std::string format_usd(Micros micros) {
    char buf[48];
    const char* sign = micros < 0 ? "-" : "";
    Micros a = micros < 0 ? -micros : micros;
    std::snprintf(buf, sizeof buf, "%s$%lld.%06lld", sign, static_cast<long long>(a / 1000000),
                  static_cast<long long>(a % 1000000));
    return buf;
}

std::string redact(std::string_view text) {
    // Built once; each pattern keeps its label and replaces only the secret part.
    static const std::vector<std::pair<std::regex, std::string>> k_rules = [] {
        std::vector<std::pair<std::regex, std::string>> r;
        auto icase = std::regex::ECMAScript | std::regex::icase;
        r.emplace_back(
            std::regex(
                R"re(-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----)re"),
            "[REDACTED PRIVATE KEY]");
        // A key whose end was cut off (by the length cap below, or by the sender).
        r.emplace_back(std::regex(R"re(-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*$)re"),
                       "[REDACTED PRIVATE KEY]");
        r.emplace_back(std::regex(R"re((x-goog-api-key\s*:\s*)\S+)re", icase), "$1[REDACTED]");
        r.emplace_back(std::regex(R"re((authorization\s*:\s*)[^\r\n]+)re", icase), "$1[REDACTED]");
        r.emplace_back(std::regex(R"re((bearer\s+)[A-Za-z0-9._~+/=-]+)re", icase), "$1[REDACTED]");
        r.emplace_back(
            std::regex(R"re(([?&](key|access_token|x-goog-signature|signature|token)=)[^&\s"']+)re",
                       icase),
            "$1[REDACTED]");
        r.emplace_back(
            std::regex(
                R"re(("(access_token|refresh_token|id_token|private_key|assertion|signedBlob|api_key|key)"\s*:\s*")[^"]*)re",
                icase),
            "$1[REDACTED]");
        r.emplace_back(std::regex(R"re((assertion=)[^&\s]+)re", icase), "$1[REDACTED]");
        r.emplace_back(std::regex(R"re(AIza[0-9A-Za-z_-]{20,})re"), "[REDACTED]");
        r.emplace_back(std::regex(R"re(ya29\.[0-9A-Za-z._-]+)re"), "[REDACTED]");
        return r;
    }();
    // std::regex recurses once per character a repetition matches: ~100 KB in one match
    // overflows the stack. What is logged is cut first, so every match stays short; the cut
    // cannot expose a secret, since each rule matches a secret's start without its end.
    constexpr std::size_t k_max_redacted = 8192;
    std::string out(text.substr(0, k_max_redacted));
    if (text.size() > k_max_redacted) {
        out += "... (" + std::to_string(text.size() - k_max_redacted) + " more bytes not shown)";
    }
    for (const auto& [re, repl] : k_rules) {
        out = std::regex_replace(out, re, repl);
    }
    return out;
}

}  // namespace assetgen::util
