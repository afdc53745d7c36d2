#pragma once
// Canary stages (`--stages 10,25,50,100`) and the stage each row belongs to. A row's place is a
// number in [0, 1) drawn from SHA-256 of the salt and its scene_id, and a row is in the stage of
// p% when its place is below p/100. So the rows of a smaller stage are always inside the rows of
// a larger one, and the same rows are chosen on every run and every machine.

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

#include "util/status.hpp"

namespace assetgen::canary {

// The default of --stages.
inline constexpr std::string_view k_default_stages = "10,25,50,100";

// Parses a --stages value such as "10,25,50,100": whole percentages 1..100 (spaces and a
// trailing '%' allowed), strictly increasing. The last stage may be below 100: rows beyond it
// are not run by the canary (stage_of says std::nullopt). INVALID_INPUT
// `--stages: "<item>" is ...` naming the first bad item otherwise.
util::Result<std::vector<int>> parse_stages(std::string_view text);

// "10,25,50,100": the stages as parse_stages reads them.
std::string format_stages(const std::vector<int>& stages);

// The row's stable place in [0, 1): the first 8 bytes of SHA-256(salt + '\0' + scene_id) read as
// a big-endian integer, over 2^64. For reports; in_stage decides with integers.
double stage_fraction(std::string_view scene_id, std::string_view salt);

// True when the row is among the first `percent`% (0..100) of rows: its place is below
// percent/100, decided exactly in integers. 100 takes every row, 0 none.
bool in_stage(std::string_view scene_id, std::string_view salt, int percent);

// The index of the first stage (in parse_stages' order) that takes the row; std::nullopt when
// none does (only when the last stage is below 100).
std::optional<std::size_t> stage_of(std::string_view scene_id, std::string_view salt,
                                    const std::vector<int>& stages);

}  // namespace assetgen::canary
