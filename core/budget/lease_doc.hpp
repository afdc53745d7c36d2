#pragma once
// The budget document of a gs:// ledger: one JSON object per user and day,
// <ledger>/budget/YYYY-MM-DD/<user>.json, holding the leases that processes on any machine have
// taken from that day's budget (per mode: "live" and "dry_run" are separate budgets). It is only
// ever replaced under ifGenerationMatch, so two processes never both act on the same state.
//
// How the numbers work. A lease is an amount a process may spend without asking again; its
// requests write ledger lines tagged with the lease id. From the document and the ledger as one
// process sees them (spent: every counted entry of the day; by_lease: the part of it tagged with
// each lease) a lease's outstanding part is amount - by_lease[id] (never below 0): what its
// holder may still spend or has spent without the line being visible yet. So
//     spent + sum of outstanding over the live leases
// counts every cost at least once, however stale the view of the ledger (a line that becomes
// visible moves from "outstanding" into "spent"), and a lease is granted only while that sum
// stays within the limit. A holder changes only its own lease; a lease is live until its expiry
// plus a grace for clock skew; after that its holder is taken for dead. A dead lease that names its
// place (the spool folder and job place of its holder) is kept, and its outstanding part still
// counts: its holder may have paid for images whose ledger lines are only in that spool, or not
// written at all (a kill between the manifest line and the ledger line). It is released only by
// a run of the same place that has pushed that spool and written the missing lines back
// (release_dead_of_place), or with the day. A dead lease without a place (written by an older
// build) is dropped, and only the lines it wrote stay counted.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "util/status.hpp"
#include "util/text.hpp"

namespace assetgen::budget {

struct Lease {
    util::Micros amount = 0;
    std::int64_t expires_ms = 0;  // holder's wall clock
    std::int64_t granted_ms = 0;  // first granted
    std::string holder;           // who, for people: "job-…, shard 1/4, pid 42 on host"
    // Where its holder's unrecorded spend can be found again: "<spool folder id>:<job place>"
    // (empty in documents of older builds).
    std::string place;

    bool operator==(const Lease&) const = default;
};

struct ModeLeases {
    util::Micros limit = 0;               // the limit of the last process that wrote (for people)
    std::map<std::string, Lease> leases;  // by lease id

    bool operator==(const ModeLeases&) const = default;
};

struct LeaseDoc {
    std::string user;
    std::string day;  // YYYY-MM-DD in tz
    std::string tz = "UTC";
    std::int64_t updated_ms = 0;
    std::map<std::string, ModeLeases> modes;  // "live", "dry_run"

    bool operator==(const LeaseDoc&) const = default;
};

std::string to_json(const LeaseDoc& doc);
// INVALID_INPUT naming the field when text is not a budget document.
util::Result<LeaseDoc> parse_lease_doc(std::string_view text);

// One process's view when it changes its own lease.
struct LeaseView {
    util::Micros limit = 0;
    util::Micros spent = 0;                        // every entry of the day, once
    std::map<std::string, util::Micros> by_lease;  // the part of spent under each lease
    std::int64_t now_ms = 0;
    std::int64_t grace_ms = 0;  // a lease is live until expires_ms + grace_ms
};

// What the holder asks for: in_use is what its lease must keep (spent under it + reserved by
// requests in flight); need the least it must add to be of use, want what it would like to add.
struct LeaseAsk {
    std::string id;
    util::Micros in_use = 0;
    util::Micros need = 0;
    util::Micros want = 0;
    std::int64_t ttl_ms = 0;
    std::string holder;
    std::string place;
    bool release = false;  // drop the lease (in_use must be visible in the ledger by then)
};

struct LeaseDecision {
    util::Micros amount = 0;  // the lease's new amount (in_use when need did not fit)
    bool granted = false;     // amount >= in_use + need
    util::Micros others = 0;  // outstanding under the other live leases
    util::Micros dead = 0;    // outstanding under dead leases kept for their place
    util::Micros room = 0;    // what was left for this lease beyond in_use, before want capped it
    std::vector<std::pair<std::string, Lease>> reclaimed;    // expired leases dropped
    std::vector<std::pair<std::string, Lease>> dead_leases;  // expired leases kept (their place)
};

// True when the lease's holder is taken for dead (expiry + grace passed).
bool lease_expired(const Lease& lease, const LeaseView& view);

// What the leases other than except_id hold beyond their visible spend (their outstanding
// parts), as decide counts it: the live ones and the dead ones kept for their place.
util::Micros held_by_leases(const ModeLeases& mode, const LeaseView& view,
                            const std::string& except_id = {});

// Removes the leases of place other than except_id (their holders are gone: this process holds
// the place's job lock) and returns them. Call only once the spool named by place is pushed and
// the place's missing ledger lines are written back.
std::vector<std::pair<std::string, Lease>> release_dead_of_place(ModeLeases& mode,
                                                                 const std::string& place,
                                                                 const std::string& except_id);

// Applies ask to the mode's leases in doc (dropping expired leases of others, setting this one's
// amount and expiry, or removing it on release) and says what was decided. Never grants more
// than limit - spent - others - (this lease's outstanding beyond in_use).
LeaseDecision decide(ModeLeases& mode, const LeaseView& view, const LeaseAsk& ask);

}  // namespace assetgen::budget
