#pragma once
// One ledger line (DESIGN.md §7): the reference platform's fields first, with their names and
// types (ts, userId, jobId, prompt, images, cost), then ours. One line per request that was
// paid for or refused.

#include <cstdint>
#include <string>
#include <string_view>

#include "util/status.hpp"
#include "util/text.hpp"

namespace assetgen::ledger {

constexpr int k_schema_version = 1;

// Entry::kind of the lines of a reservation (reservations.hpp).
inline constexpr const char* k_kind_reserve = "reserve";
inline constexpr const char* k_kind_settle = "settle";

struct Entry {
    std::int64_t ts = 0;  // ms since epoch
    std::string user_id;  // "userId"
    std::string job_id;   // "jobId"
    std::string prompt;
    int images = 0;
    util::Micros cost = 0;  // written as dollars, "cost": 0.039
    // ours
    int v = k_schema_version;  // 0 when read from a reference-platform line (six fields)
    std::string id;            // unique; idempotency key, e.g. "<job>/<scene>/v<k>"
    std::string scene_id;
    int variant = 0;
    std::string model;
    std::string mode;            // "live" | "dry_run"
    std::string status;          // "ok" or an error code name such as "BLOCKED"
    std::string error_code;      // "" when ok
    util::Micros estimated = 0;  // written as dollars
    std::string shard;           // "" or "I/N"
    // The inference tier the request was priced at ("standard", "flex", "priority"); a line
    // without the field reads as "standard" (older ledgers).
    std::string tier = "standard";
    // The budget lease the request was reserved under (gs:// ledgers, budget/lease_doc.hpp);
    // "" otherwise, and then not written.
    std::string lease;
    // usageMetadata of a paid answer, so that `ledger verify` can check cost against tokens and
    // prices; written only when has_tokens ("prompt_tokens", "output_tokens",
    // "output_image_tokens" (-1 = no breakdown), "thoughts_tokens"), optional in every version.
    bool has_tokens = false;
    std::int64_t prompt_tokens = 0;
    std::int64_t output_tokens = 0;
    std::int64_t output_image_tokens = -1;
    std::int64_t thoughts_tokens = 0;
    // "usage_anomaly": why the answer's usageMetadata could not be a bill (budget::usage_anomaly,
    // e.g. "candidatesTokenCount:negative"); the line then costs the request's worst case and
    // carries no token counts. Optional in every version, written only when set.
    std::string usage_anomaly;
    // Reservations that outlive the process (batch tier; reservations.hpp). All optional in
    // every version and written only when set, so a request line's bytes are as before.
    // "kind": "" for a request line, "reserve" or "settle" (k_kind_reserve, k_kind_settle).
    std::string kind;
    // "reservation": the id of the reservation a line belongs to: on a settle line, and on the
    // paid lines of the requests made under it (their cost counts against it).
    std::string reservation;
    util::Micros reserved = 0;  // "reserved": the amount held, on a reserve line
    int requests = 0;           // "requests": the requests the reserve line holds money for
    util::Micros settled = 0;   // "settled": the actual total, on a settle line
    std::string batch;          // "batch": the batch's display name (job id and chunk)
    // "recorded_ts": when the line was written (ms), on settle and bound lines, whose ts is
    // the reservation's own (their money counts on the day of the reservation).
    std::int64_t recorded_ts = 0;
    // "uri", "sha256": where a paid image was stored and its bytes' hash, on the ok line a run
    // writes before the image's manifest line is durable (issue: the group-commit window). A
    // next run that finds the line without its manifest line adopts the image when the file
    // there still has this hash (schedule/adopt_paid.hpp). Optional, written only when set.
    std::string uri;
    std::string sha256;
    // Read-only: what is wrong with the line's cost as written (util::MoneyReading::problem,
    // with the text, e.g. `"-100" is negative`); "" when it is exact. Such a cost reads as its
    // worst case (never a credit), and `ledger verify` reports it. Never written.
    std::string cost_problem;

    bool operator==(const Entry&) const = default;
};

// One JSON object, fields in the order above, ending in '\n'.
std::string to_line(const Entry& entry);
// Parses one line (without '\n'); accepts the reference platform's six-field lines (v = 0).
// A cost that is negative, not a number, past six decimals or absurd does not fail the line:
// it reads as its worst case (util::read_money) with cost_problem set. INVALID_INPUT naming the
// first bad field otherwise.
util::Result<Entry> parse_line(std::string_view line);

}  // namespace assetgen::ledger
