#include "refs/http_cache.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <ctime>
#include <vector>

#include "util/text.hpp"

namespace assetgen::refs {
namespace {

constexpr std::int64_t k_heuristic_cap_ms = 24LL * 3600 * 1000;

// Every value of the headers with this name (the transport lower-cases names).
std::vector<std::string> all_values(const net::HttpResponse& response, std::string_view name) {
    std::vector<std::string> out;
    for (const auto& [key, value] : response.headers) {
        if (util::to_lower(key) == name) {
            out.push_back(value);
        }
    }
    return out;
}

std::optional<std::int64_t> parse_seconds(std::string_view text) {
    text = util::trim(text);
    if (text.size() >= 2 && text.front() == '"' && text.back() == '"') {
        text = text.substr(1, text.size() - 2);
    }
    std::int64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc::result_out_of_range && !text.empty()) {
        return std::int64_t{1} << 31;  // "a very large number" means fresh for a long time
    }
    if (ec != std::errc() || end != text.data() + text.size() || value < 0) {
        return std::nullopt;
    }
    return value;
}

}  // namespace

std::optional<std::int64_t> parse_http_date(std::string_view text) {
    std::string s(util::trim(text));
    static constexpr std::array<const char*, 3> k_formats = {
        "%a, %d %b %Y %H:%M:%S GMT",  // IMF-fixdate
        "%A, %d-%b-%y %H:%M:%S GMT",  // RFC 850
        "%a %b %d %H:%M:%S %Y",       // asctime
    };
    for (const char* format : k_formats) {
        std::tm tm{};
        const char* end = ::strptime(s.c_str(), format, &tm);
        if (end != nullptr && *end == '\0') {
            return static_cast<std::int64_t>(::timegm(&tm)) * 1000;
        }
    }
    return std::nullopt;
}

Freshness freshness_of(const net::HttpResponse& response, std::int64_t now_ms) {
    Freshness f;
    f.etag = response.header("etag");
    f.last_modified = response.header("last-modified");

    bool no_cache = false;
    std::optional<std::int64_t> max_age;
    for (const auto& value : all_values(response, "cache-control")) {
        for (const auto& raw : util::split_any(value, ",")) {
            std::string directive = util::to_lower(util::trim(raw));
            std::string name = directive.substr(0, directive.find('='));
            name = std::string(util::trim(name));
            if (name == "no-store") {
                f.store = false;
            } else if (name == "no-cache") {
                no_cache =
                    true;  // also no-cache="field": revalidate every time is the safe reading
            } else if (name == "max-age" && directive.find('=') != std::string::npos) {
                auto seconds = parse_seconds(directive.substr(directive.find('=') + 1));
                if (seconds && (!max_age || *seconds < *max_age)) {
                    max_age = seconds;  // conflicting values: the most conservative wins
                }
            }
        }
    }
    if (no_cache) {
        f.fresh_until_ms = 0;
        return f;
    }
    std::int64_t age_ms = parse_seconds(response.header("age")).value_or(0) * 1000;
    if (max_age) {
        f.fresh_until_ms = now_ms + std::max<std::int64_t>(0, *max_age * 1000 - age_ms);
        return f;
    }
    auto date = parse_http_date(response.header("date"));
    std::string expires_text = response.header("expires");
    if (!expires_text.empty()) {
        auto expires = parse_http_date(expires_text);
        if (!expires) {
            f.fresh_until_ms = 0;
            return f;
        }
        std::int64_t lifetime = *expires - date.value_or(now_ms);
        f.fresh_until_ms = now_ms + std::max<std::int64_t>(0, lifetime - age_ms);
        return f;
    }
    if (auto modified = parse_http_date(f.last_modified)) {
        std::int64_t since = date.value_or(now_ms) - *modified;
        std::int64_t lifetime = std::min(k_heuristic_cap_ms, std::max<std::int64_t>(0, since / 10));
        f.fresh_until_ms = now_ms + std::max<std::int64_t>(0, lifetime - age_ms);
    }
    return f;
}

}  // namespace assetgen::refs
