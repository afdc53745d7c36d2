// The batch tier's engine: a chunk's results into images, manifest lines and ledger lines bound
// to its reservation, and its settle line (batch_run.hpp).
#include "schedule/batch_engine.hpp"

#include <nlohmann/json.hpp>

#include "ledger/manifest.hpp"
#include "provider/image_check.hpp"
#include "schedule/content_key.hpp"
#include "util/hash.hpp"
#include "util/money.hpp"
#include "util/text.hpp"

namespace assetgen::schedule::batch_detail {
namespace {

std::string extension_of(const std::string& mime) {
    if (mime == "image/jpeg") {
        return "jpg";
    }
    if (mime == "image/webp") {
        return "webp";
    }
    return "png";
}

}  // namespace

void Engine::note_failure(const Request& r, const std::string& code, const std::string& message) {
    const batch::Row& row = m_rows[r.row].row;
    m_failed_rows.insert(r.row);
    ++m_out.summary.errors;
    ++m_out.summary.errors_by_code[code];
    if (m_out.summary.first_error.empty()) {
        m_out.summary.first_error = code + ": " + message;
    }
    m_out.failures.push_back({row.scene_id, r.variant, row.where, code, message});
    BatchOutcome& o = m_out.outcomes[done_key(row.scene_id, r.variant)];
    o = BatchOutcome{"failed", "", 0, code, message};
    if (m_d.events) {
        m_d.events->emit("error", {{"scene_id", row.scene_id},
                                   {"variant", r.variant},
                                   {"where", row.where},
                                   {"error_code", code},
                                   {"message", message}});
    }
}

Status Engine::record_image(Chunk& c, const Request& r, provider::ImageResult&& image) {
    const batch::Row& row = m_rows[r.row].row;
    Micros worst = 0;
    Micros estimate = 0;
    TRY_ASSIGN(const auto req, make_request(r, &worst, &estimate));
    auto mime = provider::check_image_bytes(image.data);
    const std::int64_t now = m_d.clock.unix_ms();
    ledger::Entry e;
    e.user_id = m_s.user;
    e.job_id = m_s.job_id;
    e.prompt = row.prompt;
    e.scene_id = row.scene_id;
    e.variant = r.variant;
    e.model = req.model;
    e.mode = std::string(ledger::run_mode_name(m_s.mode));
    e.shard = m_s.shard;
    e.tier = "batch";
    e.estimated = estimate;
    const Micros cost = set_billed(e, req.model, image.usage, worst).cost;
    // No lease: the reservation, not a budget lease, holds this line's room.
    if (!mime.ok()) {
        e.images = 0;
        e.status = std::string(util::code_name(util::Code::bad_response));
        e.error_code = e.status;
        e.id = m_s.job_id + "/" + row.safe_id + "/v" + std::to_string(r.variant) + "/" + e.status +
               "/" + c.reservation.batch;
        ledger::bind_to_reservation(e, c.reservation, now);
        TRY(m_d.ledger.append(e));
        c.paid = util::add_sat(c.paid, cost);
        m_out.summary.actual_cost = util::add_sat(m_out.summary.actual_cost, cost);
        note_failure(r, e.status, mime.status().message());
        m_out.outcomes[done_key(row.scene_id, r.variant)].cost = cost;
        return util::ok_status();
    }
    image.mime_type = *mime;
    const std::string name =
        row.safe_id + "_v" + std::to_string(r.variant) + "." + extension_of(image.mime_type);
    const std::string uri = storage::join(storage::join(m_s.job_dir, row.safe_id), name);
    TRY(m_d.storage.put(uri, image.data, image.mime_type));

    ledger::ManifestEntry m;
    m.ts = now;
    m.job_id = m_s.job_id;
    m.scene_id = row.scene_id;
    m.variant = r.variant;
    m.uri = uri;
    m.sha256 = util::sha256_hex(image.data);
    m.bytes = static_cast<std::int64_t>(image.data.size());
    m.mime = image.mime_type;
    m.attempts = 1;
    m.cost = cost;
    m.estimated = estimate;
    m.model = req.model;
    m.mode = e.mode;
    m.ledger_id = m_s.job_id + "/" + row.safe_id + "/v" + std::to_string(r.variant);
    m.shard = m_s.shard;
    m.user_id = m_s.user;
    m.prompt = row.prompt;
    m.content =
        content_key(row_content_part(row, ContentSettings{m_s.mode, m_s.model, m_s.image_size}),
                    m_s.global_refs);
    m.tier = "batch";
    m.reservation = c.reservation.id;
    m.reservation_ts = c.reservation.ts;
    sign_manifest_entry(m_d.sign_url, m, m_d.events);  // valid from now: the collection
    TRY(m_d.manifest.append_durable(m));
    m_written.insert(done_key(row.scene_id, r.variant));

    e.images = 1;
    e.status = "ok";
    e.id = m.ledger_id;
    ledger::bind_to_reservation(e, c.reservation, now);
    TRY(m_d.ledger.append(e));
    c.paid = util::add_sat(c.paid, cost);
    ++m_out.summary.images_generated;
    m_out.summary.actual_cost = util::add_sat(m_out.summary.actual_cost, cost);
    m_out.summary.estimated_cost = util::add_sat(m_out.summary.estimated_cost, estimate);
    m_out.outcomes[done_key(row.scene_id, r.variant)] =
        BatchOutcome{"ok", uri, cost, "", "", m.signed_url};
    if (m_d.events) {
        m_d.events->emit("item_complete", {{"scene_id", row.scene_id},
                                           {"variant", r.variant},
                                           {"uri", uri},
                                           {"cost_usd", util::to_dollars(cost)},
                                           {"batch", c.reservation.batch}});
    }
    return util::ok_status();
}

Status Engine::record_failure(Chunk& c, const Request& r, const Status& why) {
    const batch::Row& row = m_rows[r.row].row;
    // A request that failed inside the batch: a ledger line (billed or not), bound.
    // The request's worst case, for usage that cannot be a bill; the reservation's share of
    // one request when the row no longer makes a request.
    Micros worst = 0;
    if (!make_request(r, &worst, nullptr).ok()) {
        worst = c.reservation.requests > 0 ? c.reservation.amount / c.reservation.requests : 0;
    }
    ledger::Entry e = billed_line(row.scene_id, r.variant, row.prompt, model_of(row),
                                  util::Result<provider::ImageResult>(why), worst);
    e.id = m_s.job_id + "/" + row.safe_id + "/v" + std::to_string(r.variant) + "/" + e.status +
           "/" + c.reservation.batch;
    TRY(charge(c, e));
    note_failure(r, e.status, why.message());
    m_out.outcomes[done_key(row.scene_id, r.variant)].cost = e.cost;
    return util::ok_status();
}

ledger::Entry Engine::billed_line(const std::string& scene_id, int variant,
                                  const std::string& prompt, const std::string& model,
                                  const util::Result<provider::ImageResult>& outcome,
                                  Micros worst) {
    const util::TokenUsage* u = nullptr;
    if (outcome.ok()) {
        u = &outcome->usage;
    } else if (outcome.status().usage()) {
        u = &*outcome.status().usage();
    }
    ledger::Entry e;
    e.user_id = m_s.user;
    e.job_id = m_s.job_id;
    e.prompt = prompt;
    e.scene_id = scene_id;
    e.variant = variant;
    e.model = model;
    e.mode = std::string(ledger::run_mode_name(m_s.mode));
    e.shard = m_s.shard;
    e.tier = "batch";
    e.images = 0;
    if (!outcome.ok()) {
        e.status = std::string(util::code_name(outcome.status().code()));
        e.error_code = e.status;
    }
    if (u == nullptr) {
        return e;  // a failure that was not billed
    }
    if (!set_billed(e, model, *u, worst).priced && !outcome.ok()) {
        e.cost = 0;  // a failure whose model has no price is not charged a guess
    }
    return e;
}

budget::Bill Engine::set_billed(ledger::Entry& e, const std::string& model,
                                const util::TokenUsage& u, Micros worst) {
    const budget::Bill b =
        budget::bill(m_d.prices, model, m_s.image_size, u, budget::Tier::batch, worst);
    e.cost = b.cost;
    e.usage_anomaly = b.anomaly;
    if (!b.anomaly.empty()) {
        e.has_tokens = false;  // counts that cannot be a bill are not written as one
        if (m_d.events) {
            m_d.events->emit("budget", {{"event_detail", "usage_anomaly"},
                                        {"scene_id", e.scene_id},
                                        {"variant", e.variant},
                                        {"usage_anomaly", b.anomaly},
                                        {"cost_usd", util::to_dollars(b.cost)},
                                        {"prompt_tokens", u.prompt_tokens},
                                        {"output_tokens", u.output_tokens},
                                        {"thoughts_tokens", u.thoughts_tokens}});
        }
        if (!m_usage_said) {
            m_usage_said = true;
            say("batch: scene_id \"" + e.scene_id + "\" v" + std::to_string(e.variant) +
                ": the server's usageMetadata cannot be a bill (" + b.anomaly +
                "); charged the request's worst case " + util::format_usd(b.cost) +
                "; every such result is a usage_anomaly event and ledger field");
        }
        return b;
    }
    e.has_tokens = true;
    e.prompt_tokens = u.prompt_tokens;
    e.output_tokens = u.output_tokens;
    e.output_image_tokens = u.output_image_tokens;
    e.thoughts_tokens = u.thoughts_tokens;
    return b;
}

Status Engine::charge(Chunk& c, ledger::Entry& e) {
    ledger::bind_to_reservation(e, c.reservation, m_d.clock.unix_ms());
    TRY(m_d.ledger.append(e));
    c.paid = util::add_sat(c.paid, e.cost);
    m_out.summary.actual_cost = util::add_sat(m_out.summary.actual_cost, e.cost);
    return util::ok_status();
}

Status Engine::record_already_stored(Chunk& c, const Request& r,
                                     const util::Result<provider::ImageResult>& outcome) {
    const batch::Row& row = m_rows[r.row].row;
    Micros worst = 0;
    TRY(make_request(r, &worst, nullptr).status());
    ledger::Entry e =
        billed_line(row.scene_id, r.variant, row.prompt, model_of(row), outcome, worst);
    const std::string stem = m_s.job_id + "/" + row.safe_id + "/v" + std::to_string(r.variant);
    const auto done = m_done.find(done_key(row.scene_id, r.variant));
    if (outcome.ok() && m_written.count(done_key(row.scene_id, r.variant)) == 0 &&
        done != m_done.end() && done->second.reservation == c.reservation.id) {
        // This chunk's own image: a collect killed between its manifest line and its ledger
        // line. The ok line it did not write, under the manifest line's ledger_id, so that
        // `ledger verify` finds the image's line.
        e.images = 1;
        e.status = "ok";
        e.id = stem;
    } else {
        // Another run's image (or a failed request for it): billed, but not used.
        if (outcome.ok()) {
            e.status = std::string(k_already_stored);
            e.error_code = e.status;
        }
        e.id = stem + "/" + e.status + "/" + c.reservation.batch;
    }
    TRY(charge(c, e));
    say("batch: " + c.reservation.batch + ": " + row.scene_id + " v" + std::to_string(r.variant) +
        " was already stored; its billed result is charged (" + util::format_usd(e.cost) + ", " +
        e.status + "), the stored image is kept");
    return util::ok_status();
}

Status Engine::record_row_removed(Chunk& c, const std::string& key,
                                  const util::Result<provider::ImageResult>& outcome) {
    const auto parsed = provider::parse_batch_request_key(key);
    if (!parsed) {
        return Status(util::Code::internal, "batch: a chunk key \"" + key.substr(0, 200) +
                                                "\" that is not <job>/<scene>/<variant>");
    }
    // No row: its worst case is the reservation's share of one request.
    const Micros share =
        c.reservation.requests > 0 ? c.reservation.amount / c.reservation.requests : 0;
    ledger::Entry e =
        billed_line(parsed->scene_id, parsed->variant, "", c.reservation.model, outcome, share);
    const bool changed = c.changed.count(key) > 0;
    if (outcome.ok()) {
        e.status = std::string(changed ? k_row_changed : k_row_removed);
        e.error_code = e.status;
    }
    e.id = key + "/" + e.status + "/" + c.reservation.batch;
    TRY(charge(c, e));
    say("batch: " + c.reservation.batch + ": key \"" + key.substr(0, 200) +
        (changed ? "\" was edited since it was sent" : "\" is no row of the input any more") +
        "; its billed result is charged (" + util::format_usd(e.cost) + ", " + e.status +
        "), not stored");
    return util::ok_status();
}

Status Engine::collect(Chunk& c) {
    std::unordered_set<std::string> in_chunk(c.keys.begin(), c.keys.end());
    std::unordered_set<std::string> seen;
    std::int64_t skipped = 0;
    auto stats =
        m_d.service.download_results(*c.info, [&](provider::BatchResult&& result) -> Status {
            const bool removed = c.removed.count(result.key) > 0 || c.changed.count(result.key) > 0;
            if (!removed && in_chunk.count(result.key) == 0) {
                say("batch: " + c.reservation.batch + ": a result for key \"" +
                    result.key.substr(0, 200) + "\" that the chunk did not send; ignored");
                return util::ok_status();
            }
            if (!seen.insert(result.key).second) {
                // A request is billed once: its first result is the one charged.
                say("batch: " + c.reservation.batch + ": a second result for key \"" +
                    result.key.substr(0, 200) + "\"; ignored");
                return util::ok_status();
            }
            if (removed) {
                if (c.recorded_before.count(result.key) > 0) {
                    ++skipped;  // charged by an earlier, interrupted collect
                    return util::ok_status();
                }
                return record_row_removed(c, result.key, result.outcome);
            }
            const auto it = m_by_key.find(result.key);
            if (c.recorded_before.count(result.key) > 0) {
                ++skipped;  // its line was written by an earlier, interrupted collect
                if (is_done(it->second)) {
                    return util::ok_status();
                }
                // Its failure (billed or not) was recorded by an earlier, interrupted collect.
                note_failure(it->second, "BATCH_REQUEST_FAILED",
                             "failed inside the batch " + c.reservation.batch +
                                 " (its ledger line has the code); --retry-failed sends it again");
                return util::ok_status();
            }
            if (is_done(it->second)) {
                // Stored already, yet no line of this reservation charges it: Google billed
                // this result all the same, so it is charged (the stored image stays).
                ++skipped;
                return record_already_stored(c, it->second, result.outcome);
            }
            if (result.outcome.ok()) {
                return record_image(c, it->second, std::move(result.outcome).value());
            }
            return record_failure(c, it->second, result.outcome.status());
        });
    TRY(stats.status());
    if (skipped > 0) {
        say("batch: " + c.reservation.batch + ": " + std::to_string(skipped) +
            " result(s) already stored or recorded by an earlier run; not stored again");
    }
    for (const auto& k : c.keys) {
        const Request& r = m_by_key.at(k);
        if (seen.count(k) == 0 && !is_done(r) && c.recorded_before.count(k) == 0) {
            TRY(record_failure(c, r,
                               Status(util::Code::bad_response,
                                      "the batch's results have no line for key \"" + k + "\"")));
        }
    }
    ++m_out.chunks_collected;
    return settle(c, "");
}

Status Engine::fail_rest(Chunk& c, const std::string& code, const std::string& message) {
    for (const auto& k : c.keys) {
        const Request& r = m_by_key.at(k);
        if (!is_done(r)) {
            note_failure(r, code, message);
        }
    }
    return settle(c, code);
}

Status Engine::settle(Chunk& c, const std::string& reason) {
    const Micros actual = util::add_sat(c.paid_before, c.paid);
    TRY(ledger::write_settlement(m_d.ledger, c.reservation, actual, reason, m_d.clock.unix_ms()));
    if (c.reservation.amount > actual) {
        m_out.given_back = util::add_sat(m_out.given_back, c.reservation.amount - actual);
    }
    if (!c.staged.empty()) {
        m_d.service.discard_input(c.staged).ignore_error();  // best effort: the results are in
    }
    say("batch: " + c.reservation.batch + " settled: " + util::format_usd(actual) + " of " +
        util::format_usd(c.reservation.amount) + " reserved" +
        (reason.empty() ? std::string() : " (" + reason + ")"));
    return util::ok_status();
}

}  // namespace assetgen::schedule::batch_detail
