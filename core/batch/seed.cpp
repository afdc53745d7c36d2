// The synthetic batch of `assetgen seed` (DESIGN §2).
//
// Row N (1-based) has scene_id BATCH-<N zero-padded to at least 3 digits>, prompt
// "product on clean bg #N" and variants (i % 3) + 1 with the 0-based index i = N - 1, so rows
// 1, 4, 7, ... have 1 variant. That is the choice that reproduces the reference plan: for 100
// rows, 34/33/33 rows with 1/2/3 variants and 199 images (with i = N it would be 33/34/33 and
// 200 images). Rows whose N is a multiple of refs_every carry one reference URL, picked by a
// hash of (seed, N), so the output depends on the options only.

#include "batch/seed.hpp"

#include <nlohmann/json.hpp>

namespace assetgen::batch {
namespace {

const std::vector<std::string>& builtin_refs() {
    static const std::vector<std::string> k_refs = {
        "https://example.com/refs/style-01.png", "https://example.com/refs/style-02.png",
        "https://example.com/refs/style-03.png", "https://example.com/refs/style-04.png",
        "https://example.com/refs/style-05.png", "https://example.com/refs/style-06.png",
    };
    return k_refs;
}

// SplitMix64: a fixed, portable mix, so that a seed picks the same refs on every platform.
std::uint64_t mix(std::uint64_t x) {
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

std::string csv_cell(const std::string& s) {
    if (s.find_first_of(",\"\r\n") == std::string::npos) {
        return s;
    }
    std::string out = "\"";
    for (char c : s) {
        out += c;
        if (c == '"') {
            out += '"';
        }
    }
    return out + "\"";
}

std::string scene_id(std::size_t n, std::size_t width) {
    std::string digits = std::to_string(n);
    if (digits.size() < width) {
        digits.insert(0, width - digits.size(), '0');
    }
    return "BATCH-" + digits;
}

}  // namespace

util::Result<SeedStats> write_seed(const SeedOptions& options, std::ostream& out) {
    if (options.rows == 0) {
        return util::error(util::Code::invalid_input, "seed: --rows must be at least 1");
    }
    const auto& urls = options.ref_urls.empty() ? builtin_refs() : options.ref_urls;
    for (const auto& url : urls) {
        if (url.empty()) {
            return util::error(util::Code::invalid_input, "seed: --ref must not be empty");
        }
    }
    const std::size_t width = std::max<std::size_t>(3, std::to_string(options.rows).size());

    SeedStats stats;
    stats.rows_by_variants.assign(4, 0);
    if (options.format == Format::csv) {
        out << "scene_id,prompt,variants,refs\n";
    } else if (options.format == Format::json) {
        out << "[\n";
    }
    for (std::size_t n = 1; n <= options.rows; ++n) {
        const int variants = static_cast<int>((n - 1) % 3) + 1;
        std::string ref;
        if (options.refs_every > 0 && n % options.refs_every == 0) {
            ref = urls[mix(options.seed ^ mix(n)) % urls.size()];
            ++stats.rows_with_refs;
        }
        ++stats.rows;
        stats.images += static_cast<std::size_t>(variants);
        ++stats.rows_by_variants[static_cast<std::size_t>(variants)];

        const std::string id = scene_id(n, width);
        const std::string prompt = "product on clean bg #" + std::to_string(n);
        if (options.format == Format::csv) {
            out << id << ',' << csv_cell(prompt) << ',' << variants << ',' << csv_cell(ref) << '\n';
        } else {
            nlohmann::ordered_json row;
            row["scene_id"] = id;
            row["prompt"] = prompt;
            row["variants"] = variants;
            if (!ref.empty()) {
                row["refs"] = ref;
            }
            if (options.format == Format::json) {
                out << "  " << row.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                    << (n < options.rows ? ",\n" : "\n");
            } else {
                out << row.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
            }
        }
        if (!out) {
            return util::error(util::Code::storage_io, "seed: writing the batch failed");
        }
    }
    if (options.format == Format::json) {
        out << "]\n";
    }
    out.flush();
    if (!out) {
        return util::error(util::Code::storage_io, "seed: writing the batch failed");
    }
    return stats;
}

}  // namespace assetgen::batch
