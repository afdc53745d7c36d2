#pragma once
// What an image of a row is made from, as one short key recorded in its manifest line: a resume
// of the job (the same --job-id) compares every done row's key with the row as it reads now, so
// an edited prompt can never be reported with the image of the old one.
//
// The key is the first 16 hex digits of SHA-256 over: the prompt; the refs as typed (a V4 signed
// URL by its gs:// location, so re-signing does not change it); ref_mode; aspect_ratio; the
// effective model; the image size; the mode (dry_run/live); the global refs. The variant is not
// in it (each variant has its own manifest line).

#include <string>
#include <vector>

#include "batch/row.hpp"
#include "ledger/run_mode.hpp"

namespace assetgen::schedule {

struct ContentSettings {
    ledger::RunMode mode = ledger::RunMode::dry_run;
    std::string model;       // the run's default model (a row's model wins)
    std::string image_size;  // "" = model default
};

// The row's part of the key (everything but the global refs, which a JSON batch gives only at
// its end).
std::string row_content_part(const batch::Row& row, const ContentSettings& settings);

// The key from the row's part and the run's global refs.
std::string content_key(const std::string& row_part, const std::vector<std::string>& global_refs);

}  // namespace assetgen::schedule
