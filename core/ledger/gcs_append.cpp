// How this works. A run of lines becomes a part object whose name is fixed by the spool range
// it holds (<writer>-<first>-<end>), and whose token (a hash of that name) every compose writes
// into the day object's metadata, in a list of the last parts together with a counter of
// composes (assetgen-seq). A compose carries ifGenerationMatch of the state it was built on,
// so it applies only on top of exactly that state. A 412, or an error after the request may
// have reached GCS, leaves one question: did one of our attempts apply? Our first attempt was
// built on seq B, so if any applied its token went in at seq > B; the list at seq S holds the
// tokens of the last L composes, so when S - B <= L the list answers. Otherwise (more than L
// composes since, or the counter went backwards because someone replaced the object) the day
// object is read and the run's entry ids looked for. The intent (part, range, B) is recorded
// durably before the first compose, so a process that finds a dead writer's spool can ask the
// same question. A late duplicate of an old attempt cannot apply either: it carries a
// generation that is gone by the time anything else was composed.

#include "ledger/gcs_append.hpp"

#include <algorithm>
#include <set>
#include <string_view>

#include "ledger/entry.hpp"
#include "storage/crc32c.hpp"
#include "util/hash.hpp"
#include "util/retry.hpp"

namespace assetgen::ledger {
namespace {

using util::Code;
using util::Status;

// Attempts at a part upload that meets 412 from an object that is not ours.
constexpr int k_part_rounds = 8;

// Whether every line of run is in the day object's bytes: by id, or by the whole line for a
// line without one.
bool contains_run(std::string_view data, const PushRun& run) {
    std::set<std::string> ids;
    std::set<std::string_view> lines;
    std::size_t start = 0;
    for (std::size_t nl = data.find('\n'); nl != std::string_view::npos;
         nl = data.find('\n', start)) {
        std::string_view line = data.substr(start, nl - start);
        auto entry = parse_line(line);
        if (entry.ok() && !entry->id.empty()) {
            ids.insert(entry->id);
        } else {
            lines.insert(line);
        }
        start = nl + 1;
    }
    for (std::size_t i = 0; i < run.ids.size(); ++i) {
        if (!run.ids[i].empty()) {
            if (ids.count(run.ids[i]) == 0) {
                return false;
            }
            continue;
        }
        const std::size_t from = run.line_starts[i];
        const std::size_t to =
            i + 1 < run.line_starts.size() ? run.line_starts[i + 1] : run.bytes.size();
        std::string_view line = std::string_view(run.bytes).substr(from, to - from - 1);
        if (lines.count(line) == 0) {
            return false;
        }
    }
    return true;
}

// Whether the part with token, first composed (if ever) on a state with seq base_seq, is in
// the day object described by now.
util::Result<bool> was_applied(GcsLedgerStore& store, const DayState& now, const std::string& token,
                               std::int64_t base_seq, const PushRun& run) {
    if (now.lists(token)) {
        return true;
    }
    if (!now.exists) {
        return false;
    }
    const std::int64_t since = now.seq - base_seq;
    if (since >= 0 && since <= static_cast<std::int64_t>(now.recent.size())) {
        return false;
    }
    auto data = store.read_day(run.day);
    if (!data.ok()) {
        if (data.status().code() == Code::not_found) {
            return false;
        }
        return data.status();
    }
    return contains_run(*data, run);
}

// Uploads the part create-only; a part already there with the same bytes (our own earlier
// attempt) is used as it is, one with other bytes is replaced. Returns its generation.
util::Result<std::int64_t> upload_part(GcsLedgerStore& store, const storage::GcsUrl& part,
                                       const std::string& bytes, util::Clock& clock) {
    storage::Preconditions create;
    create.if_generation_match = 0;
    const std::string crc = storage::crc32c_base64(bytes);
    // A 412 means a part is there already: ours (used), gone again (retried at once) or
    // another's (removed, retried at once).
    util::RetryPolicy tries;
    tries.max_attempts = k_part_rounds;
    bool met_other = false;
    auto attempt = [&](int) -> util::Result<std::int64_t> {
        met_other = false;
        auto up = store.client().upload(part, bytes, k_ledger_content_type, create);
        if (up.ok()) {
            return up->generation;
        }
        if (!storage::is_precondition_failed(up.status())) {
            return up.status();
        }
        auto there = store.client().stat(part);
        if (!there.ok()) {
            met_other = there.status().code() == Code::not_found;
            return there.status();
        }
        if (there->size == bytes.size() && there->crc32c == crc) {
            return there->generation;
        }
        auto removed = store.client().remove(part, there->generation);
        if (!removed.ok() && removed.code() != Code::not_found) {
            return removed;
        }
        met_other = true;
        return up.status();
    };
    auto uploaded = util::retry_loop(clock, tries, attempt, [&](const Status&) {
        return util::RetryClass{met_other, true, std::nullopt, true};
    });
    if (uploaded.ok() || uploaded.stop != util::StopReason::attempts_exhausted) {
        return std::move(uploaded.value);
    }
    return Status(Code::storage_io, "upload " + part.to_string() + ": kept meeting another object");
}

// Parts are only scaffolding: one left behind (an error here, a crash) costs storage, not
// correctness, and readers never list them.
void remove_part(GcsLedgerStore& store, const storage::GcsUrl& part,
                 std::optional<std::int64_t> generation) {
    store.client().remove(part, generation).ignore_error();
}

// Brings the day object's component count back to 1: rewrite, else upload the bytes again.
// OK when it changed meanwhile (the caller reads it again).
util::Status reset_components(GcsLedgerStore& store, const std::string& day, const DayState& now,
                              int max_components) {
    auto rewritten = store.rewrite_day(day, now);
    DayState current = now;
    if (rewritten.ok()) {
        if (rewritten->component_count < max_components) {
            return util::ok_status();
        }
        current = *rewritten;  // GCS kept the count: fall back to uploading the bytes
    } else if (storage::is_precondition_failed(rewritten.status()) ||
               rewritten.status().code() == Code::not_found) {
        return util::ok_status();
    } else if (util::is_transient(rewritten.status().code())) {
        return rewritten.status();
    }
    auto uploaded = store.reupload_day(day, current);
    if (uploaded.ok() || storage::is_precondition_failed(uploaded.status())) {
        return util::ok_status();
    }
    return uploaded.status();
}

// run without the lines whose id the day object already has (lines without an id are kept).
util::Result<PushRun> without_present(GcsLedgerStore& store, const PushRun& run) {
    auto data = store.read_day(run.day);
    if (!data.ok()) {
        if (data.status().code() == Code::not_found) {
            return run;
        }
        return data.status();
    }
    std::set<std::string> present;
    std::string_view text = *data;
    std::size_t start = 0;
    for (std::size_t nl = text.find('\n'); nl != std::string_view::npos;
         nl = text.find('\n', start)) {
        auto entry = parse_line(text.substr(start, nl - start));
        if (entry.ok() && !entry->id.empty()) {
            present.insert(entry->id);
        }
        start = nl + 1;
    }
    PushRun kept;
    kept.day = run.day;
    kept.first = run.first;
    kept.end = run.end;
    for (std::size_t i = 0; i < run.ids.size(); ++i) {
        if (!run.ids[i].empty() && present.count(run.ids[i])) {
            continue;
        }
        const std::size_t from = run.line_starts[i];
        const std::size_t to =
            i + 1 < run.line_starts.size() ? run.line_starts[i + 1] : run.bytes.size();
        kept.line_starts.push_back(kept.bytes.size());
        kept.bytes.append(run.bytes, from, to - from);
        kept.ids.push_back(run.ids[i]);
    }
    return kept;
}

}  // namespace

PushRun take_run(const std::deque<SpoolLine>& lines, std::uint64_t stop_at, std::size_t max_bytes) {
    PushRun run;
    for (const auto& line : lines) {
        if (!run.ids.empty() &&
            (line.day != run.day || run.bytes.size() + line.text.size() > max_bytes)) {
            break;
        }
        if (stop_at != 0 && line.offset >= stop_at) {
            break;
        }
        if (run.ids.empty()) {
            run.day = line.day;
            run.first = line.offset;
        }
        run.line_starts.push_back(run.bytes.size());
        run.bytes += line.text;
        run.ids.push_back(line.id);
        run.end = line.offset + line.text.size();
    }
    return run;
}

util::Result<AppendOutcome> append_run(GcsLedgerStore& store, const std::string& writer,
                                       const PushRun& run, const std::optional<SpoolIntent>& known,
                                       const RecordIntent& record, const AppendOptions& options,
                                       util::Clock& clock) {
    const storage::GcsUrl part = store.part_object(run.day, writer, run.first, run.end);
    const std::string token = part_token(part.object);
    const int max_components = std::max(2, options.max_components);

    // The seq our first compose was built on, once one may have gone out.
    std::optional<std::int64_t> base_seq;
    if (known && known->part == part.object) {
        base_seq = known->base_seq;
        TRY_ASSIGN(const DayState now, store.stat_day(run.day));
        TRY_ASSIGN(const bool applied, was_applied(store, now, token, *base_seq, run));
        if (applied) {
            remove_part(store, part, std::nullopt);
            return AppendOutcome::already_there;
        }
    }

    if (options.skip_present) {
        TRY_ASSIGN(PushRun kept, without_present(store, run));
        if (kept.ids.empty()) {
            return AppendOutcome::already_there;  // every line is in the day object already
        }
        if (kept.ids.size() < run.ids.size()) {
            AppendOptions rest = options;
            rest.skip_present = false;
            // The same part name (the spool range) with fewer lines: a retry filters again
            // and finds at least what this one left out.
            return append_run(store, writer, kept, known, record, rest, clock);
        }
    }
    TRY_ASSIGN(std::int64_t part_generation, upload_part(store, part, run.bytes, clock));
    // Each round reads the day object and composes onto exactly that state. A lost race (412)
    // waits a jittered while (doubling from race_backoff, at most 2 s); a round that fixed its
    // own cause (a part sent again, components reset) goes again at once.
    util::RetryPolicy rounds;
    rounds.max_attempts = options.max_rounds;
    rounds.initial_backoff = options.race_backoff;
    rounds.max_backoff = std::chrono::milliseconds(2000);
    rounds.jitter = util::Jitter::full;
    util::SplitMix jitter(util::fnv1a64(part.object));
    util::RetryHooks hooks;
    hooks.random = [&] { return jitter(); };
    bool unsure = false;     // an attempt failed in a way that may hide its success
    bool again_now = false;  // this round removed its own cause: the next one goes at once
    auto round = [&](int) -> util::Result<AppendOutcome> {
        again_now = false;
        TRY_ASSIGN(const DayState now, store.stat_day(run.day));
        if (unsure) {
            TRY_ASSIGN(const bool applied, was_applied(store, now, token, *base_seq, run));
            if (applied) {
                remove_part(store, part, part_generation);
                return AppendOutcome::appended;
            }
            unsure = false;
        }
        if (now.exists && now.component_count >= max_components) {
            TRY(reset_components(store, run.day, now, max_components));
            again_now = true;
            return Status(Code::storage_io, "components reset");
        }
        if (!base_seq) {
            TRY(record(SpoolIntent{run.day, part.object, run.first, run.end, now.seq}));
            base_seq = now.seq;
        }
        auto composed =
            store.compose_day(run.day, now, part, part_generation, token, options.history);
        if (composed.ok()) {
            remove_part(store, part, part_generation);
            return AppendOutcome::appended;
        }
        const Status& failed = composed.status();
        if (failed.code() == Code::not_found) {
            // Our part is gone (removed by hand or by a lifecycle rule): send it again. Which
            // attempt failed how is not ours to know, so the next round checks first.
            TRY_ASSIGN(part_generation, upload_part(store, part, run.bytes, clock));
            unsure = true;
            again_now = true;
            return failed;
        }
        if (failed.http_status() == 400 && now.exists && now.component_count > 1) {
            // The component cap may be lower than max_components thinks.
            TRY(reset_components(store, run.day, now, max_components));
            unsure = true;
            again_now = true;
            return failed;
        }
        if (storage::is_precondition_failed(failed)) {
            unsure = true;
        }
        return failed;  // not a 412: the intent stays recorded, the next push asks again
    };
    auto lost_race = [&](const Status& failed) {
        util::RetryClass c;
        c.retryable = again_now || storage::is_precondition_failed(failed);
        c.immediate = again_now;
        return c;
    };
    auto appended = util::retry_loop(clock, rounds, round, lost_race, hooks);
    if (appended.ok() || appended.stop != util::StopReason::attempts_exhausted) {
        return std::move(appended.value);
    }
    return Status(Code::storage_io, "append to " + store.day_object(run.day).to_string() +
                                        ": other writers won " +
                                        std::to_string(options.max_rounds) + " rounds in a row");
}

SpoolPusher::SpoolPusher(GcsLedgerStore& store, std::string writer, std::string state_path,
                         SpoolState state, AppendOptions options, util::Clock& clock)
    : m_store(store),
      m_writer(std::move(writer)),
      m_state_path(std::move(state_path)),
      m_state(std::move(state)),
      m_options(options),
      m_clock(clock) {}

std::uint64_t SpoolPusher::stop_for(std::uint64_t front_offset) const {
    return m_state.inflight && m_state.inflight->first == front_offset ? m_state.inflight->end : 0;
}

util::Result<AppendOutcome> SpoolPusher::push(const PushRun& run, bool skip_present) {
    const RecordIntent record = [&](const SpoolIntent& intent) -> util::Status {
        SpoolState next = m_state;
        next.inflight = intent;
        TRY(write_spool_state(m_state_path, next));
        m_state = std::move(next);
        return util::ok_status();
    };
    AppendOptions options = m_options;
    options.skip_present = options.skip_present || skip_present;
    TRY_ASSIGN(const AppendOutcome outcome,
               append_run(m_store, m_writer, run, m_state.inflight, record, options, m_clock));
    SpoolState done;
    done.committed = run.end;
    TRY(write_spool_state(m_state_path, done));
    m_state = done;
    return outcome;
}

}  // namespace assetgen::ledger
