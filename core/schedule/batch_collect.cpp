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
    const auto& u = image.usage;
    auto priced = m_d.prices.actual(req.model, req.image_size, u.prompt_tokens, u.output_tokens,
                                    u.thoughts_tokens, u.output_image_tokens, budget::Tier::batch);
    const Micros cost = priced.ok() ? *priced : worst;
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
    e.cost = cost;
    e.estimated = estimate;
    e.has_tokens = true;
    e.prompt_tokens = u.prompt_tokens;
    e.output_tokens = u.output_tokens;
    e.output_image_tokens = u.output_image_tokens;
    e.thoughts_tokens = u.thoughts_tokens;
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
    const std::string code(util::code_name(why.code()));
    Micros cost = 0;
    if (why.usage()) {
        const auto& u = *why.usage();
        auto priced =
            m_d.prices.actual(model_of(row), m_s.image_size, u.prompt_tokens, u.output_tokens,
                              u.thoughts_tokens, u.output_image_tokens, budget::Tier::batch);
        cost = priced.ok() ? *priced : 0;
    }
    // A request that failed inside the batch: a ledger line (billed or not), bound.
    ledger::Entry e;
    e.user_id = m_s.user;
    e.job_id = m_s.job_id;
    e.prompt = row.prompt;
    e.scene_id = row.scene_id;
    e.variant = r.variant;
    e.model = model_of(row);
    e.mode = std::string(ledger::run_mode_name(m_s.mode));
    e.shard = m_s.shard;
    e.tier = "batch";
    e.images = 0;
    e.cost = cost;
    e.status = code;
    e.error_code = code;
    e.id = m_s.job_id + "/" + row.safe_id + "/v" + std::to_string(r.variant) + "/" + code + "/" +
           c.reservation.batch;
    if (why.usage()) {
        e.has_tokens = true;
        e.prompt_tokens = why.usage()->prompt_tokens;
        e.output_tokens = why.usage()->output_tokens;
        e.output_image_tokens = why.usage()->output_image_tokens;
        e.thoughts_tokens = why.usage()->thoughts_tokens;
    }
    ledger::bind_to_reservation(e, c.reservation, m_d.clock.unix_ms());
    TRY(m_d.ledger.append(e));
    c.paid = util::add_sat(c.paid, cost);
    m_out.summary.actual_cost = util::add_sat(m_out.summary.actual_cost, cost);
    note_failure(r, code, why.message());
    m_out.outcomes[done_key(row.scene_id, r.variant)].cost = cost;
    return util::ok_status();
}

Status Engine::collect(Chunk& c) {
    std::unordered_set<std::string> in_chunk(c.keys.begin(), c.keys.end());
    std::unordered_set<std::string> seen;
    std::int64_t skipped = 0;
    auto stats =
        m_d.service.download_results(*c.info, [&](provider::BatchResult&& result) -> Status {
            const auto it = m_by_key.find(result.key);
            if (it == m_by_key.end() || in_chunk.count(result.key) == 0 ||
                !seen.insert(result.key).second) {
                say("batch: " + c.reservation.batch + ": a result for key \"" +
                    result.key.substr(0, 200) + "\" that the chunk did not send; ignored");
                return util::ok_status();
            }
            if (is_done(it->second)) {
                ++skipped;  // stored by an earlier, interrupted collect
                return util::ok_status();
            }
            if (c.recorded_before.count(result.key) > 0) {
                // Its failure (billed or not) was recorded by an earlier, interrupted collect.
                ++skipped;
                note_failure(it->second, "BATCH_REQUEST_FAILED",
                             "failed inside the batch " + c.reservation.batch +
                                 " (its ledger line has the code); --retry-failed sends it again");
                return util::ok_status();
            }
            if (result.outcome.ok()) {
                return record_image(c, it->second, std::move(result.outcome).value());
            }
            return record_failure(c, it->second, result.outcome.status());
        });
    TRY(stats.status());
    if (skipped > 0) {
        say("batch: " + c.reservation.batch + ": " + std::to_string(skipped) +
            " result(s) already stored by an earlier run; skipped");
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
