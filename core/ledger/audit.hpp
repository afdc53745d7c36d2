#pragma once
// What `assetgen ledger` does over a ledger folder (or a gs:// ledger: see LedgerLocation):
// select entries (Filter), add them up by day, user, job, model or mode (sum), check the ledger
// and the jobs' manifests against each other (verify), and drop exact duplicate lines from a
// local day file (compact).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/entry.hpp"
#include "ledger/ledger_folder.hpp"
#include "ledger/reservations.hpp"
#include "util/status.hpp"
#include "util/text.hpp"

namespace assetgen::ledger {

// The calendar day "YYYY-MM-DD" a timestamp (ms since epoch) falls on; --tz supplies its own.
using DayOf = std::function<std::string(std::int64_t ts_ms)>;
// The UTC day of a timestamp: the default DayOf, and the day file an entry is written to.
std::string utc_day(std::int64_t ts_ms);
// True for a real calendar date written "YYYY-MM-DD".
bool is_day(std::string_view text);

// Which entries `ledger show|sum` look at; an empty field matches everything.
struct Filter {
    std::string from_day;  // "YYYY-MM-DD" inclusive, as DayOf counts days
    std::string to_day;    // inclusive
    std::string user;      // Entry::user_id
    std::string job;       // Entry::job_id
    std::string model;
    std::string mode;    // "live" | "dry_run"
    std::string status;  // "ok" or an error code name
};

// True when entry passes every non-empty field of filter, days counted by day_of.
bool matches(const Entry& entry, const Filter& filter, const DayOf& day_of = utc_day);

// The day files that can hold entries of filter's days in any time zone: the day bounds
// widened by one day on each side (matches() then decides exactly).
ReadOptions read_options_for(const Filter& filter);

// Calls on_entry for each entry of the folder that matches filter, in day-file order; bad and
// torn lines go to issues. STORAGE_IO when the folder cannot be read.
util::Status for_each_matching(const LedgerLocation& folder, const Filter& filter,
                               const DayOf& day_of,
                               const std::function<void(const Entry&)>& on_entry,
                               std::vector<ReadIssue>* issues);

// The wall-clock time "YYYY-MM-DD HH:MM:SS" of a timestamp (ms since epoch) in the IANA time
// zone tz, for display. CONFIG_ERROR naming the zone when it is not in the time-zone database.
util::Result<std::string> local_time(std::int64_t ts_ms, const std::string& tz);

// What select_entries() returns.
struct Selection {
    std::vector<Entry> entries;     // in ledger order (day files in order, lines as appended)
    std::int64_t matched = 0;       // entries that matched the filter, before the limit
    std::vector<ReadIssue> issues;  // lines that could not be read
};

// The folder's entries that match filter, in ledger order; with limit > 0 only the last `limit`
// of them (the most recent), holding no more than that many in memory. A missing folder gives
// none. STORAGE_IO when the folder cannot be read.
util::Result<Selection> select_entries(const LedgerLocation& folder, const Filter& filter,
                                       const DayOf& day_of, std::size_t limit);

// What `ledger sum` groups by.
enum class GroupBy { day, user, job, model, mode };
// "day", "user", "job", "model" or "mode"; std::nullopt for anything else.
std::optional<GroupBy> group_by_from_name(std::string_view name);
// The name group_by_from_name reads.
std::string_view group_by_name(GroupBy by);

// Sums over entries: every line counts once, refused ones too (their cost is what was paid).
struct Totals {
    std::int64_t entries = 0;
    std::int64_t images = 0;
    util::Micros cost = 0;
    util::Micros estimated = 0;
    // What open reservations (pending batches, reservations.hpp) still hold: not in cost.
    util::Micros reserved = 0;
};

struct Group {
    std::string key;  // the day, user, job, model or mode ("" when the entry has none)
    Totals totals;
};

// Adds entries up, exactly (integer micro-dollars), per group and overall.
class Summer {
public:
    // Groups by `by`; day keys come from day_of.
    explicit Summer(GroupBy by, DayOf day_of = utc_day);
    // Counts one entry in its group and in the total.
    void add(const Entry& entry);
    // The groups in ascending key order (days therefore in calendar order); an open
    // reservation's held amount (Totals::reserved) goes to its reserve line's group.
    std::vector<Group> groups() const;
    // Everything added.
    Totals total() const;

private:
    std::string key_of(const Entry& entry) const;

    GroupBy m_by;
    DayOf m_day_of;
    std::map<std::string, Totals> m_groups;
    Totals m_total;
    ReservationBook m_reservations;  // their held amount goes to the reserve line's group
};

// What sum() returns.
struct SumResult {
    std::vector<Group> groups;
    Totals total;
    std::vector<ReadIssue> issues;  // lines that could not be counted
};

// Sums the folder's entries that match filter, grouped by `by`. STORAGE_IO when the folder
// cannot be read.
util::Result<SumResult> sum(const LedgerLocation& folder, const Filter& filter, GroupBy by,
                            const DayOf& day_of = utc_day);

// What kind of problem verify() found.
enum class FindingKind {
    bad_line,              // a line that is not a valid entry (bad JSON, missing or bad field)
    torn_line,             // a last line without its '\n'
    unknown_version,       // "v" newer than this build knows
    duplicate_id,          // the same id on two lines (ledger), or ledger_id (manifest)
    missing_ledger_entry,  // a manifest line whose ledger_id is in no ledger line
    image_mismatch,        // a job's manifest images != its ledger's ok images
    cost_mismatch,         // a job's manifest cost != its ledger's ok cost (to the micro-dollar)
    bad_cost,              // a cost that is negative, not a number, past 6 decimals or absurd
    cost_vs_tokens,        // a line's cost != what its tokens cost at the price table's rates
    unrecorded_image,      // an ok ledger line with an image that its job's manifest lacks
    shard_overlap,         // one image (job, scene_id, variant) charged under two shard tags
    // reservations.hpp
    settle_without_reserve,  // a settle line whose reservation has no reserve line
    settled_twice,           // a second settle line for one reservation
    stale_reservation,       // a reservation open past k_reservation_stale_ms
    settle_mismatch,         // a settle line's settled != the cost of its paid lines before it
    paid_without_reserve,    // paid lines bound to a reservation that has no reserve line
    paid_after_settle,       // a paid line of a reservation after its settle line
};
// The stable name of a kind, e.g. "duplicate_id".
std::string_view finding_kind_name(FindingKind kind);

// One problem verify() found, and where.
struct Finding {
    FindingKind kind = FindingKind::bad_line;
    std::string where;    // "<file>:<line>", or "job <id>" for totals
    std::string message;  // e.g. `duplicate id "j/s/v1" (first at <file>:<line>)`
    // "<where>: <message>"
    std::string to_string() const;
};

// A line's cost above this is absurd for one request (bad_cost), whatever the prices.
inline constexpr util::Micros k_absurd_line_cost = 10'000'000'000;  // $10,000

// What verify() needs beyond the files.
struct VerifyOptions {
    // What a line with tokens (Entry::has_tokens) should cost at the price table's rates;
    // std::nullopt when it cannot say (unknown model). Unset: costs are not judged by tokens.
    std::function<std::optional<util::Micros>(const Entry&)> expected_cost;
    // Reads the gs:// manifests among manifest_paths (gcs_manifests.hpp); none: CONFIG_ERROR
    // for a gs:// manifest.
    storage::GcsClient* manifests_gcs = nullptr;
    // Now (ms), for the age of open reservations; 0: ages are not judged.
    std::int64_t now_ms = 0;
};

// Checks every line of the ledger folder (schema, duplicate ids, torn lines, costs that are
// negative, not numbers, past six decimals or above k_absurd_line_cost, costs that disagree
// with their tokens, one image charged under two shard tags) and, for each job with a manifest
// among manifest_paths, the manifest against that job's ledger lines with status "ok": image
// count, cost total to the micro-dollar, that every manifest line's ledger_id is in the ledger
// and every ok line with an image is in the manifest. A job's own manifest and its shards'
// (<job>/shards/I-of-N/manifest.jsonl) are one manifest here, each image counted once
// (job_manifests.hpp). Findings come in read order (the
// manifest-side ones after the ledger's); an empty list means all is well. STORAGE_IO when the
// folder or a manifest cannot be read (a missing manifest is empty).
util::Result<std::vector<Finding>> verify(const LedgerLocation& folder,
                                          const std::vector<std::string>& manifest_paths,
                                          const VerifyOptions& options = {});

// What verify_report() returns: the findings and how much was checked.
struct VerifyReport {
    std::vector<Finding> findings;    // as verify() returns them
    std::int64_t entries = 0;         // good ledger lines read
    std::size_t files = 0;            // ledger day files read
    std::int64_t manifest_lines = 0;  // good manifest lines read
    // Reservations still open (pending batches), oldest first, with their age at now_ms; those
    // past k_reservation_stale_ms are findings too.
    std::vector<OpenReservation> open_reservations;
};

// As verify(), and counts what was checked (for `ledger verify`'s verdict).
util::Result<VerifyReport> verify_report(const LedgerLocation& folder,
                                         const std::vector<std::string>& manifest_paths,
                                         const VerifyOptions& options = {});

// Adds to report what book tells of reservations: a settle line without its reserve line
// (settle_without_reserve), a reservation settled twice (settled_twice), a settle line whose
// settled is not what its paid lines before it cost (settle_mismatch), paid lines bound to a
// reservation without a reserve line (paid_without_reserve, at the first), each paid line read
// after its reservation's settle line (paid_after_settle), and with now_ms > 0
// the open reservations with their age (report.open_reservations), those open past
// k_reservation_stale_ms as stale_reservation findings. verify_report calls it.
void add_reservation_findings(const ReservationBook& book, std::int64_t now_ms,
                              VerifyReport& report);

// The job manifests under an output folder, <out>/<job>/manifest.jsonl and each shard's
// <out>/<job>/shards/I-of-N/manifest.jsonl, sorted; none when the folder does not exist. STORAGE_IO
// when it cannot be listed.
util::Result<std::vector<std::string>> find_manifests(const std::string& out_folder);

// What compact() did.
struct CompactResult {
    std::size_t lines = 0;    // lines in the day file before
    std::size_t dropped = 0;  // exact duplicate lines removed
};

// Rewrites the day file <folder>/<day>.jsonl atomically without its exact duplicate lines
// (byte-identical apart from the '\n'), keeping every other line, bad or torn, as it was; the
// file is left alone when nothing is dropped. Holds the day file's lock throughout, so
// appenders wait, and LocalLedgerWriters that had the old file open reopen the new one.
// INVALID_INPUT for a malformed day, NOT_FOUND when there is no such file, STORAGE_IO on I/O;
// CONFIG_ERROR for a gs:// ledger (its writer deduplicates on write, so there is nothing to do).
util::Result<CompactResult> compact(const std::string& folder, const std::string& day);

}  // namespace assetgen::ledger
