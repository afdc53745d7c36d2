// The batch tier's engine: the chunks and the run; see batch_run.hpp for the order of things
// and why, batch_collect.cpp for the results.
#include "schedule/batch_engine.hpp"

#include <unistd.h>

#include <algorithm>

#include "provider/gemini_batch_files.hpp"
#include "schedule/content_key.hpp"
#include "util/hash.hpp"
#include "util/money.hpp"
#include "util/text.hpp"

namespace assetgen::schedule {
namespace batch_detail {
namespace {

// Why a chunk's pending rows fail when its batch ends without results.
std::string terminal_code(BatchState s) {
    switch (s) {
        case BatchState::expired:
            return "BATCH_EXPIRED";
        case BatchState::cancelled:
            return "BATCH_CANCELLED";
        default:
            return "BATCH_FAILED";
    }
}

}  // namespace

util::Result<provider::ImageRequest> Engine::make_request(const Request& r, Micros* worst,
                                                          Micros* estimate) const {
    const batch::Row& row = m_rows[r.row].row;
    provider::ImageRequest req;
    req.model = model_of(row);
    req.prompt = row.prompt;
    req.scene_id = row.scene_id;
    req.variant = r.variant;
    req.aspect_ratio = row.aspect_ratio;
    req.image_size = m_s.image_size;
    // The refs as typed: an upper bound of those sent (duplicates and those past the cap are
    // dropped), so the reservation covers them.
    const std::size_t refs = m_d.refs == nullptr ? 0 : row.refs.size() + m_s.global_refs.size();
    const std::size_t prompt_bytes =
        req.prompt.size() + (refs > 0 ? 2 + ref_mode_instruction(row.ref_mode).size() : 0);
    budget::RequestShape shape{req.model, req.image_size, prompt_bytes, refs, budget::Tier::batch};
    TRY_ASSIGN(const auto ceiling, m_d.prices.ceiling(shape));
    req.max_output_tokens = ceiling.max_output_tokens;
    req.thinking_level = ceiling.thinking_level;
    req.image_tokens = ceiling.image_tokens;
    if (worst != nullptr) {
        *worst = ceiling.worst_case;
    }
    if (estimate != nullptr) {
        *estimate = ceiling.estimate;
    }
    return req;
}

util::Result<provider::ImageRequest> Engine::make_full_request(const Request& r) {
    TRY_ASSIGN(auto req, make_request(r, nullptr, nullptr));
    const batch::Row& row = m_rows[r.row].row;
    if (m_d.refs == nullptr || (row.refs.empty() && m_s.global_refs.empty())) {
        return req;
    }
    if (const auto failed = m_refs_failed.find(r.row); failed != m_refs_failed.end()) {
        return failed->second;
    }
    auto resolved = m_d.refs->resolve_row(row.refs, m_s.global_refs, row.where);
    if (!resolved.ok()) {
        m_refs_failed.emplace(r.row, resolved.status());
        return resolved.status();
    }
    for (auto& ref : resolved->refs) {
        req.refs.push_back(provider::RefImage{ref.mime_type, std::move(ref.data)});
    }
    if (!req.refs.empty()) {
        req.prompt += "\n\n" + ref_mode_instruction(row.ref_mode);
    }
    return req;
}

BatchChunkView Engine::view_of(const Chunk& c) const {
    BatchChunkView v;
    v.display_name = c.reservation.batch;
    v.requests = static_cast<std::int64_t>(c.keys.size());
    if (c.info) {
        v.state = c.info->state;
        if (c.info->stats.requests > 0) {
            v.requests = c.info->stats.requests;
        }
        v.done = c.info->stats.succeeded + c.info->stats.failed;
    }
    v.reserved = c.reservation.amount;
    return v;
}

Status Engine::open_chunk(std::vector<std::string> keys, int number) {
    Chunk c;
    c.number = number;
    c.keys = std::move(keys);
    Micros amount = 0;
    for (const auto& k : c.keys) {
        Micros worst = 0;
        TRY(make_request(m_by_key.at(k), &worst, nullptr).status());
        amount = util::add_sat(amount, worst);
    }
    // The in-run budget first: refused, nothing is written and nothing remote is done.
    if (!m_d.budget.reserve(amount)) {
        return util::Status(
            util::Code::budget_exceeded,
            "budget: chunk " + std::to_string(number) + " (" + std::to_string(c.keys.size()) +
                " requests) needs " + util::format_usd(amount) + " at the batch price, " +
                util::format_usd(m_d.budget.remaining()) +
                " is left today (pending batches' reservations count); nothing was sent for it");
    }
    m_held = util::add_sat(m_held, amount);
    ledger::Reservation& r = c.reservation;
    r.id = batch_chunk_reservation_id(m_s.job_id, number, m_s.shard);
    r.user_id = m_s.user;
    r.job_id = m_s.job_id;
    r.model = m_s.model;
    r.mode = std::string(ledger::run_mode_name(m_s.mode));
    r.batch = batch_chunk_display_name(m_s.job_id, number, m_s.shard);
    r.shard = m_s.shard;
    r.tier = "batch";
    r.requests = static_cast<int>(c.keys.size());
    r.amount = amount;
    r.ts = m_d.clock.unix_ms();
    r.lease = m_d.budget.lease_id();
    // Durable before the batch exists: which keys, then the money. Either write failing gives
    // the in-run hold back at once: nothing was sent for the chunk, and a gs:// ledger's budget
    // lease would otherwise keep the room from every machine until the lease expires.
    Status recorded =
        write_chunk_keys(m_d.storage, batch_chunk_keys_location(m_s.records, number), c.keys);
    if (recorded.ok()) {
        // What each request is made from, so that a collect with an edited sheet can tell
        // (changed_keys) and never store an old prompt's image as the edited row's.
        std::vector<std::string> contents;
        contents.reserve(c.keys.size());
        for (const auto& k : c.keys) {
            contents.push_back(content_of(m_by_key.at(k)));
        }
        recorded = write_chunk_keys(m_d.storage, batch_chunk_content_location(m_s.records, number),
                                    contents);
    }
    if (recorded.ok()) {
        recorded = ledger::write_reservation(m_d.ledger, r);
    }
    if (!recorded.ok()) {
        m_d.budget.settle(amount, 0);
        m_held -= amount;
        return recorded;
    }
    // The reserve line holds the money now, for this process and every other one (the ledger
    // budget and the gs:// leases count it): the in-run hold ends, so the chunk counts once.
    // Held as used (actual = amount), so a budget that does not read the ledger keeps it too.
    m_d.budget.settle(amount, amount);
    m_held -= amount;
    ++m_out.chunks_created;
    say("batch: " + r.batch + ": " + std::to_string(c.keys.size()) + " requests, " +
        util::format_usd(amount) + " reserved (worst case at the batch price)");
    TRY(stage_and_create(c));
    m_chunks.push_back(std::move(c));
    return util::ok_status();
}

Status Engine::stage_and_create(Chunk& c) {
    const std::string path = storage::join(
        m_s.temp_dir, "assetgen-batch-" + std::to_string(::getpid()) + "-" +
                          util::sha256_hex(c.reservation.batch).substr(0, 12) + ".jsonl");
    {
        provider::BatchFileWriter file;
        TRY(file.open(path));
        for (const auto& k : c.keys) {
            TRY_ASSIGN(const auto req, make_full_request(m_by_key.at(k)));
            TRY(file.add_line(k, m_d.service.request_line(k, req)));  // the service's format
        }
        TRY(file.finish());
    }
    auto staged = m_d.service.stage_input(path, c.reservation.batch);
    ::unlink(path.c_str());
    TRY(staged.status());
    c.staged = *staged;
    TRY_ASSIGN(c.info,
               m_d.service.create_or_find(c.reservation.model, c.reservation.batch, c.staged));
    say("batch: " + c.reservation.batch + " is " + c.info->name);
    return util::ok_status();
}

util::Result<bool> Engine::watch(Chunk& c) {
    auto delay = m_s.poll_every;
    for (;;) {
        if (m_d.on_progress) {
            m_d.on_progress(view_of(c));
        }
        if (provider::is_terminal(c.info->state)) {
            return true;
        }
        if (!m_s.wait || m_d.stop.load() != 0) {
            return false;
        }
        // Sleep in short steps, so a signal detaches at once.
        const auto until = m_d.clock.steady() + delay;
        while (m_d.stop.load() == 0 && m_d.clock.steady() < until) {
            m_d.clock.sleep_for(std::min<std::chrono::nanoseconds>(until - m_d.clock.steady(),
                                                                   std::chrono::milliseconds(200)));
        }
        if (m_d.stop.load() != 0) {
            return false;
        }
        delay = std::min(std::max(delay * 2, std::chrono::milliseconds(1)), m_s.poll_max);
        if (m_s.poll_every.count() == 0) {
            delay = std::chrono::milliseconds(0);
        }
        TRY_ASSIGN(c.info, m_d.service.get(c.info->name));
    }
}

std::string Engine::content_of(const Request& r) const {
    return content_key(
        row_content_part(m_rows[r.row].row, ContentSettings{m_s.mode, m_s.model, m_s.image_size}),
        m_s.global_refs);
}

util::Result<std::set<std::string>> Engine::changed_keys(int n,
                                                         const std::vector<std::string>& keys) {
    std::set<std::string> changed;
    const std::string location = batch_chunk_content_location(m_s.records, n);
    TRY_ASSIGN(const bool recorded, m_d.storage.exists(location));
    if (!recorded) {
        return changed;
    }
    TRY_ASSIGN(const auto contents, read_chunk_keys(m_d.storage, location));
    if (contents.size() != keys.size()) {
        return changed;  // torn or foreign: no judgement (the rows are collected as before)
    }
    for (std::size_t i = 0; i < keys.size(); ++i) {
        const auto it = m_by_key.find(keys[i]);
        if (it != m_by_key.end() && content_of(it->second) != contents[i]) {
            changed.insert(keys[i]);
        }
    }
    return changed;
}

util::Result<BatchRunResult> Engine::run(const std::map<int, LedgerChunk>& ledger_chunks) {
    const auto started = m_d.clock.steady();
    m_out.summary.started_ms = m_d.clock.unix_ms();
    // Every request of the job under its key.
    std::vector<std::string> order;
    for (std::size_t i = 0; i < m_rows.size(); ++i) {
        const batch::Row& row = m_rows[i].row;
        for (int v = 1; v <= row.variants; ++v) {
            std::string key = provider::batch_request_key(m_s.job_id, row.scene_id, v);
            if (m_by_key.emplace(key, Request{i, v}).second) {
                order.push_back(std::move(key));
            }
        }
    }
    // The chunks the ledger knows: open ones are worked on, settled ones were sent already.
    std::unordered_set<std::string> sent;
    std::vector<std::pair<std::string, std::string>> failed_before;  // key, batch
    // --retry-failed --retry-tier standard (flex, priority): the synchronous runner sends them.
    // Never with --cancel: a run asked to give money back spends none.
    const bool retry_sync =
        m_s.retry_failed && m_s.retry_tier != budget::Tier::batch && !m_s.cancel;
    int last = 0;
    for (const auto& [n, lc] : ledger_chunks) {
        last = std::max(last, n);
        TRY_ASSIGN(auto keys,
                   read_chunk_keys(m_d.storage, batch_chunk_keys_location(m_s.records, n)));
        TRY_ASSIGN(const auto changed, changed_keys(n, keys));
        if (lc.settled) {
            // A batch that ran to its end: its failed requests go again only when asked
            // (--retry-failed). One that expired, failed or was cancelled ran nothing: its
            // requests not done go in a new chunk, as a synchronous run retries its failures.
            if (lc.settle_reason.empty() && (!m_s.retry_failed || retry_sync)) {
                for (const auto& k : keys) {
                    if (changed.count(k) > 0) {
                        continue;  // edited since: sent again as it reads now
                    }
                    sent.insert(k);
                    const auto it = m_by_key.find(k);
                    if (it != m_by_key.end() && !is_done(it->second)) {
                        failed_before.emplace_back(k, lc.reservation.batch);
                    }
                }
            }
            continue;
        }
        for (const auto& k : keys) {
            if (changed.count(k) == 0) {
                sent.insert(k);
            }
        }
        Chunk c;
        c.number = n;
        c.reservation = lc.reservation;
        c.paid_before = lc.paid;
        c.recorded_before = lc.recorded;
        for (auto& k : keys) {
            if (changed.count(k) > 0) {
                // Its result is the old row's: charged, not stored; the edited row goes again.
                say("batch: " + c.reservation.batch + ": the row of key \"" + k.substr(0, 200) +
                    "\" was edited since the batch was sent; its result will be charged, not "
                    "stored, and the row sent again as it reads now");
                c.changed.insert(std::move(k));
            } else if (m_by_key.count(k) > 0) {
                c.keys.push_back(std::move(k));
            } else {
                // Google bills its result all the same: collected, it is charged, not stored.
                say("batch: " + c.reservation.batch + ": key \"" + k.substr(0, 200) +
                    "\" is no row of the input any more; its result will be charged, not stored");
                c.removed.insert(std::move(k));
            }
        }
        m_chunks.push_back(std::move(c));
    }
    Status ended;
    if (m_s.cancel) {
        for (auto& c : m_chunks) {
            TRY_ASSIGN(auto found, m_d.service.find(c.reservation.batch));
            if (found && !provider::is_terminal(found->state)) {
                TRY(m_d.service.cancel(found->name));
                // It may have ended between the look and the cancel (a cancel of an ended
                // batch changes nothing): its state after the cancel decides.
                TRY_ASSIGN(found, m_d.service.get(found->name));
            }
            if (found && found->state == BatchState::succeeded) {
                // Too late to cancel: the batch ran and its requests are billed. Its results
                // are collected and charged, never given back as if nothing had run.
                say("batch: " + c.reservation.batch +
                    " already SUCCEEDED, so it cannot be cancelled; collecting its results");
                c.info = std::move(found);
                TRY(collect(c));
                continue;
            }
            // Paid lines written so far stay paid; the rest of the money goes back.
            TRY(settle(c, "BATCH_CANCELLED"));
            ++m_out.chunks_cancelled;
        }
        m_out.end = m_out.chunks_cancelled > 0 || m_chunks.empty() ? BatchRunEnd::cancelled
                                                                   : BatchRunEnd::finished;
    } else {
        // Open chunks: found (or, when the crash came before the create, created once).
        for (auto& c : m_chunks) {
            TRY_ASSIGN(c.info, m_d.service.find(c.reservation.batch));
            if (!c.info) {
                TRY(stage_and_create(c));
            } else {
                say("batch: " + c.reservation.batch + " found: " + c.info->name);
                TRY_ASSIGN(c.info, m_d.service.get(c.info->name));  // its state now
            }
        }
        // New chunks: what is neither done nor sent, cut by count and by the bytes of its lines
        // (refs make them large). A row whose refs cannot be used fails here, sending nothing.
        std::vector<std::string> fresh;
        std::vector<std::int64_t> line_bytes;
        for (const auto& k : order) {
            const Request& r = m_by_key.at(k);
            if (sent.count(k) > 0 || is_done(r)) {
                continue;
            }
            TRY(make_request(r, nullptr, nullptr).status());
            auto req = make_full_request(r);
            if (!req.ok()) {
                note_failure(r, std::string(util::code_name(req.status().code())),
                             req.status().message());
                continue;
            }
            line_bytes.push_back(
                static_cast<std::int64_t>(m_d.service.request_line(k, *req).size()));
            fresh.push_back(k);
        }
        const std::size_t size = static_cast<std::size_t>(
            m_s.batch_size > 0 ? m_s.batch_size : default_batch_size(m_s.image_size));
        std::size_t at = 0;
        for (std::size_t n : split_chunks(line_bytes, size, m_s.max_input_bytes)) {
            std::vector<std::string> keys(fresh.begin() + static_cast<std::ptrdiff_t>(at),
                                          fresh.begin() + static_cast<std::ptrdiff_t>(at + n));
            auto st = open_chunk(keys, ++last);
            if (!st.ok() && st.code() == util::Code::budget_exceeded) {
                ended = st;
                for (std::size_t i = at; i < fresh.size(); ++i) {
                    note_failure(m_by_key.at(fresh[i]), "BUDGET_EXCEEDED", st.message());
                }
                break;
            }
            TRY(st);
            at += n;
        }
        // Requests that failed inside a batch that ran to its end stay failed (their ledger
        // lines say why) until --retry-failed.
        for (const auto& [k, name] : failed_before) {
            if (retry_sync) {
                continue;  // handed back below, when still not made
            }
            note_failure(m_by_key.at(k), "BATCH_REQUEST_FAILED",
                         "failed inside the batch " + name +
                             " (its ledger line has the code); --retry-failed sends it again");
        }
        // Wait (or look once), then collect what ended.
        for (auto& c : m_chunks) {
            TRY_ASSIGN(const bool ended_now, watch(c));
            if (!ended_now) {
                m_out.pending.push_back(view_of(c));
                for (const auto& k : c.keys) {
                    const Request& r = m_by_key.at(k);
                    if (!is_done(r)) {
                        m_out.outcomes[done_key(m_rows[r.row].row.scene_id, r.variant)].status =
                            "pending";
                    }
                }
                continue;
            }
            if (c.info->state == BatchState::succeeded) {
                TRY(collect(c));
            } else {
                const std::string code = terminal_code(c.info->state);
                TRY(fail_rest(c, code,
                              "the batch " + c.reservation.batch + " ended " +
                                  std::string(provider::batch_state_name(c.info->state)) +
                                  (c.info->error.empty() ? "" : ": " + c.info->error)));
            }
        }
        m_out.end = !ended.ok()              ? BatchRunEnd::budget_exceeded
                    : !m_out.pending.empty() ? BatchRunEnd::pending
                                             : BatchRunEnd::finished;
    }
    if (retry_sync) {
        for (const auto& [k, name] : failed_before) {
            const Request& r = m_by_key.at(k);
            if (!is_done(r)) {
                m_out.retry.emplace_back(r.row, r.variant);
            }
        }
        std::sort(m_out.retry.begin(), m_out.retry.end());
    }
    TRY(m_d.ledger.flush());
    if (m_held > 0) {
        m_d.budget.settle(m_held, 0);  // a chunk whose reserve line was not written
    }
    report::Summary& s = m_out.summary;
    s.rows = m_rows.size();
    s.rows_failed = m_failed_rows.size();
    s.rows_ok = s.rows - s.rows_failed;
    s.requests = s.images_generated + s.errors;
    s.finished_ms = m_d.clock.unix_ms();
    s.wall_seconds = std::chrono::duration<double>(m_d.clock.steady() - started).count();
    if (!ended.ok()) {
        s.first_error = ended.message();
    }
    return std::move(m_out);
}

}  // namespace batch_detail

util::Result<BatchRunResult> run_batch(const BatchRunSettings& settings, BatchRunDeps& deps,
                                       const std::vector<BatchRow>& rows, const DoneIndex& done,
                                       const std::map<int, LedgerChunk>& chunks) {
    batch_detail::Engine engine(settings, deps, rows, done);
    return engine.run(chunks);
}

std::string batch_pending_line(const BatchChunkView& v) {
    return "batch: " + v.display_name + " " + std::string(provider::batch_state_name(v.state)) +
           " " + std::to_string(v.done) + "/" + std::to_string(v.requests) +
           " done; run the same command again to collect";
}

}  // namespace assetgen::schedule