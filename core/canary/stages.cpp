// Stage selection.
//
// How this works: a row's key is the first 8 bytes of SHA-256(salt, NUL, scene_id), read
// big-endian, so it does not depend on the machine's byte order, the standard library (never
// std::hash) or the order of the rows. The row is in the p% stage when key / 2^64 < p / 100.
// That comparison is made in integers: key < ceil(p * 2^64 / 100), and since 2^64 = 100 * q + 16
// with q = 184467440737095516, ceil(p * 2^64 / 100) = p * q + ceil(16 p / 100) for p < 100,
// which fits in 64 bits. Thresholds grow with p, so stages nest by construction.

#include "canary/stages.hpp"

#include <charconv>
#include <string>

#include "util/hash.hpp"
#include "util/text.hpp"

namespace assetgen::canary {
namespace {

constexpr std::uint64_t k_two64_over_100 = 184'467'440'737'095'516ULL;  // floor(2^64 / 100)
constexpr std::uint64_t k_two64_mod_100 = 16;                           // 2^64 mod 100

std::uint64_t row_key(std::string_view scene_id, std::string_view salt) {
    std::string input;
    input.reserve(salt.size() + 1 + scene_id.size());
    input.append(salt);
    input.push_back('\0');
    input.append(scene_id);
    const util::Sha256 digest = util::sha256(input);
    std::uint64_t key = 0;
    for (int i = 0; i < 8; ++i) {
        key = (key << 8) | digest[static_cast<std::size_t>(i)];
    }
    return key;
}

util::Status bad_stage(std::string_view item, const std::string& what) {
    return util::error(util::Code::invalid_input, "--stages: \"" + std::string(item) + "\" " +
                                                      what +
                                                      " (give increasing whole percentages, e.g. " +
                                                      std::string(k_default_stages) + ")");
}

}  // namespace

util::Result<std::vector<int>> parse_stages(std::string_view text) {
    if (util::trim(text).empty()) {
        return bad_stage(text, "is empty");
    }
    std::vector<int> stages;
    std::size_t start = 0;
    for (;;) {
        const std::size_t comma = text.find(',', start);
        const std::string_view raw = text.substr(
            start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
        std::string_view item = util::trim(raw);
        if (!item.empty() && item.back() == '%') {
            item = util::trim(item.substr(0, item.size() - 1));
        }
        if (item.empty()) {
            return bad_stage(text, "has an empty stage");
        }
        int value = 0;
        const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
        if (ec == std::errc::result_out_of_range) {
            return bad_stage(util::trim(raw), "is not between 1 and 100");
        }
        if (ec != std::errc() || end != item.data() + item.size()) {
            return bad_stage(util::trim(raw), "is not a whole percentage");
        }
        if (value < 1 || value > 100) {
            return bad_stage(util::trim(raw), "is not between 1 and 100");
        }
        if (!stages.empty() && value <= stages.back()) {
            return bad_stage(util::trim(raw), "does not follow " + std::to_string(stages.back()) +
                                                  ": stages must increase");
        }
        stages.push_back(value);
        if (comma == std::string_view::npos) {
            break;
        }
        start = comma + 1;
    }
    return stages;
}

std::string format_stages(const std::vector<int>& stages) {
    std::string out;
    for (std::size_t i = 0; i < stages.size(); ++i) {
        out += (i ? "," : "") + std::to_string(stages[i]);
    }
    return out;
}

double stage_fraction(std::string_view scene_id, std::string_view salt) {
    // 2^-64: a double keeps the top 53 bits, enough to show a row's place.
    return static_cast<double>(row_key(scene_id, salt)) * 0x1p-64;
}

namespace {

// True when a row with this key is in the p% stage.
bool key_in_stage(std::uint64_t key, int percent) {
    if (percent >= 100) {
        return true;
    }
    if (percent <= 0) {
        return false;
    }
    const auto p = static_cast<std::uint64_t>(percent);
    const std::uint64_t threshold = p * k_two64_over_100 + (p * k_two64_mod_100 + 99) / 100;
    return key < threshold;
}

}  // namespace

bool in_stage(std::string_view scene_id, std::string_view salt, int percent) {
    return key_in_stage(row_key(scene_id, salt), percent);
}

std::optional<std::size_t> stage_of(std::string_view scene_id, std::string_view salt,
                                    const std::vector<int>& stages) {
    const std::uint64_t key = row_key(scene_id, salt);
    for (std::size_t i = 0; i < stages.size(); ++i) {
        if (key_in_stage(key, stages[i])) {
            return i;
        }
    }
    return std::nullopt;
}

}  // namespace assetgen::canary
