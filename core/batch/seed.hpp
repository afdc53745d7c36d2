#pragma once
// The synthetic batch of `assetgen seed`. Defaults reproduce the reference 100-row load plan:
// scene_id BATCH-001…BATCH-100, prompt "product on clean bg #N", variants (i % 3) + 1
// (34/33/33 rows with 1/2/3 variants), 20 rows with reference URLs, 199 images.

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "batch/row.hpp"
#include "util/status.hpp"

namespace assetgen::batch {

struct SeedOptions {
    std::size_t rows = 100;
    std::size_t refs_every = 5;         // every Nth row carries refs (0: none)
    std::vector<std::string> ref_urls;  // empty: built-in example URLs
    Format format = Format::csv;
    std::uint64_t seed = 1;  // varies the ref choice deterministically
};

struct SeedStats {
    std::size_t rows = 0;
    std::size_t images = 0;
    std::size_t rows_with_refs = 0;
    std::vector<std::size_t> rows_by_variants;  // index k: rows with k variants (k = 1..3)
};

// Writes the batch to out (streaming; memory does not grow with rows) and returns its stats.
util::Result<SeedStats> write_seed(const SeedOptions& options, std::ostream& out);

}  // namespace assetgen::batch
