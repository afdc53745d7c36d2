#include "schedule/other_batches.hpp"

#include <algorithm>

#include "provider/gemini_batch_wire.hpp"
#include "schedule/batch_chunks.hpp"
#include "util/money.hpp"

namespace assetgen::schedule {

namespace {

// "I/N" (a reserve line's shard) as the records folder names it, "I-of-N".
std::string shard_dir_name(const std::string& shard) {
    const auto slash = shard.find('/');
    return slash == std::string::npos ? shard
                                      : shard.substr(0, slash) + "-of-" + shard.substr(slash + 1);
}

// The keys file of reservation state in out, "" when its id is not a chunk of its job.
std::string keys_location(const ledger::ReservationState& state, const std::string& out) {
    const ledger::Entry& r = state.reserve;
    const auto chunk = batch_chunk_of(r.job_id, state.id, r.shard);
    if (!chunk) {
        return {};
    }
    std::string records = storage::join(out, r.job_id);
    if (!r.shard.empty()) {
        records = storage::join(records, "shards/" + shard_dir_name(r.shard));
    }
    return batch_chunk_keys_location(records, *chunk);
}

// The input as a shell word for the suggested commands.
std::string shell_word(const std::string& s) {
    const bool plain = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) ||
               std::string_view("/._-:+@=,").find(c) != std::string_view::npos;
    });
    if (plain) {
        return s;
    }
    std::string q = "'";
    for (char c : s) {
        q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    }
    return q + "'";
}

}  // namespace

util::Result<std::vector<OtherPendingBatch>> other_pending_batches(
    const ledger::ReservationBook& book, const std::string& job_id, const std::string& out,
    storage::Storage& storage, const std::set<std::string>& scene_ids) {
    std::vector<OtherPendingBatch> found;
    for (const auto& [id, state] : book.states()) {
        const ledger::Entry& r = state.reserve;
        if (!state.reserved_seen || state.settled() || r.tier != "batch" || r.mode != "live" ||
            r.job_id == job_id) {
            continue;
        }
        const std::string keys = keys_location(state, out);
        if (keys.empty()) {
            continue;
        }
        TRY_ASSIGN(const bool here, storage.exists(keys));
        if (!here) {
            continue;  // the job writes to another --out: its images are not this run's
        }
        OtherPendingBatch b{r.job_id, r.batch, state.outstanding(), 0, {}};
        auto read = read_chunk_keys(storage, keys);
        if (!read.ok()) {
            b.overlap = scene_ids.size();  // unreadable: it may hold any of them
        } else {
            std::set<std::string> seen;
            for (const auto& k : read.value()) {
                const auto key = provider::parse_batch_request_key(k);
                if (key && scene_ids.count(key->scene_id) > 0 &&
                    seen.insert(key->scene_id).second) {
                    ++b.overlap;
                    if (b.some_scenes.size() < 3) {
                        b.some_scenes.push_back(key->scene_id);
                    }
                }
            }
        }
        if (b.overlap > 0) {
            found.push_back(std::move(b));
        }
    }
    return found;
}

util::Status refuse_other_pending(const std::vector<OtherPendingBatch>& found,
                                  const std::string& job_id, const std::string& input) {
    if (found.empty()) {
        return util::ok_status();
    }
    // Most often one old job (the sheet before its edit); name each job once, its batches after.
    std::vector<std::string> jobs;
    std::string detail;
    for (const auto& b : found) {
        if (std::find(jobs.begin(), jobs.end(), b.job_id) != jobs.end()) {
            continue;
        }
        jobs.push_back(b.job_id);
        std::string names;
        util::Micros held = 0;
        std::size_t rows = 0;
        std::vector<std::string> scenes;
        int n = 0;
        for (const auto& o : found) {
            if (o.job_id != b.job_id) {
                continue;
            }
            ++n;
            held = util::add_sat(held, o.held);
            rows += o.overlap;
            if (n <= 3) {
                names += (names.empty() ? "" : ", ") + o.batch;
            }
            for (const auto& s : o.some_scenes) {
                if (scenes.size() < 3) {
                    scenes.push_back(s);
                }
            }
        }
        std::string some;
        for (const auto& s : scenes) {
            some += (some.empty() ? "" : ", ") + s;
        }
        detail += (detail.empty() ? "" : "; ") + std::string("job ") + b.job_id + ": " +
                  std::to_string(n) + " batch chunk(s) still pending (" + names +
                  (n > 3 ? ", ..." : "") + "; " + util::format_usd(held) + " reserved) holding " +
                  std::to_string(rows) + " of this run's rows (" + some +
                  (rows > scenes.size() ? ", ..." : "") + ")";
    }
    const std::string other = jobs.size() == 1 ? jobs.front() : "<job>";
    const std::string cmd = "assetgen run " + shell_word(input) + " --tier batch --job-id " + other;
    return util::error(
        util::Code::config,
        "another job's batch is still pending in this --out: " + detail + ". This run (job " +
            job_id +
            "; without --job-id the job id is a hash of the input, so an edited sheet is a new "
            "job) would make those images again and Google would bill both. Collect the pending "
            "batch first with `" +
            cmd +
            "` (and the other settings it was sent with; rows edited since are charged for their "
            "old results and sent again), or give it back with `" +
            cmd +
            " --cancel`; to pay for both on purpose, write to another --out. Nothing was sent");
}

}  // namespace assetgen::schedule
