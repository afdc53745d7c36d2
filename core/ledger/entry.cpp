#include "ledger/entry.hpp"

// How this works: a line with a "v" field is ours and must carry every field of its version;
// a line without one is the reference platform's (ts, userId, jobId, prompt, images, cost),
// read as v = 0 with status "ok". A line from a newer version than this build knows keeps the
// six reference fields mandatory and reads the rest when present, so spend is never ignored
// just because a newer writer added fields; `ledger verify` reports the unknown version.

#include "ledger/json_line.hpp"

namespace assetgen::ledger {

std::string to_line(const Entry& entry) {
    JsonLineWriter w;
    w.add_int("ts", entry.ts)
        .add_string("userId", entry.user_id)
        .add_string("jobId", entry.job_id)
        .add_string("prompt", entry.prompt)
        .add_int("images", entry.images)
        .add_money("cost", entry.cost)
        .add_int("v", entry.v)
        .add_string("id", entry.id)
        .add_string("scene_id", entry.scene_id)
        .add_int("variant", entry.variant)
        .add_string("model", entry.model)
        .add_string("mode", entry.mode)
        .add_string("status", entry.status)
        .add_string("error_code", entry.error_code)
        .add_money("estimated", entry.estimated)
        .add_string("shard", entry.shard)
        .add_string("tier", entry.tier);
    if (!entry.lease.empty()) {
        w.add_string("lease", entry.lease);
    }
    if (entry.has_tokens) {
        w.add_int("prompt_tokens", entry.prompt_tokens)
            .add_int("output_tokens", entry.output_tokens)
            .add_int("output_image_tokens", entry.output_image_tokens)
            .add_int("thoughts_tokens", entry.thoughts_tokens);
    }
    if (!entry.usage_anomaly.empty()) {
        w.add_string("usage_anomaly", entry.usage_anomaly);
    }
    if (!entry.kind.empty()) {
        w.add_string("kind", entry.kind);
    }
    if (!entry.reservation.empty()) {
        w.add_string("reservation", entry.reservation);
    }
    if (entry.kind == k_kind_reserve) {
        w.add_money("reserved", entry.reserved).add_int("requests", entry.requests);
    }
    if (entry.kind == k_kind_settle) {
        w.add_money("settled", entry.settled);
    }
    if (!entry.batch.empty()) {
        w.add_string("batch", entry.batch);
    }
    if (entry.recorded_ts != 0) {
        w.add_int("recorded_ts", entry.recorded_ts);
    }
    if (!entry.uri.empty()) {
        w.add_string("uri", entry.uri);
    }
    if (!entry.sha256.empty()) {
        w.add_string("sha256", entry.sha256);
    }
    return w.finish();
}

namespace {

// Reads our fields into entry; when required is false a missing field keeps its default.
util::Status read_our_fields(const JsonLineFields& f, bool required, Entry& entry) {
    auto want = [&](const char* key) { return required || f.has(key); };
    if (want("id")) {
        TRY_ASSIGN(entry.id, f.get_string("id"));
    }
    if (want("scene_id")) {
        TRY_ASSIGN(entry.scene_id, f.get_string("scene_id"));
    }
    if (want("variant")) {
        TRY_ASSIGN(entry.variant, f.get_int32("variant"));
    }
    if (want("model")) {
        TRY_ASSIGN(entry.model, f.get_string("model"));
    }
    if (want("mode")) {
        TRY_ASSIGN(entry.mode, f.get_string("mode"));
    }
    if (want("status")) {
        TRY_ASSIGN(entry.status, f.get_string("status"));
    }
    if (want("error_code")) {
        TRY_ASSIGN(entry.error_code, f.get_string("error_code"));
    }
    if (want("estimated")) {
        TRY_ASSIGN(entry.estimated, f.get_money("estimated"));
    }
    if (want("shard")) {
        TRY_ASSIGN(entry.shard, f.get_string("shard"));
    }
    if (f.has("tier")) {  // optional in every version: standard when absent
        TRY_ASSIGN(entry.tier, f.get_string("tier"));
    }
    if (f.has("lease")) {  // optional in every version
        TRY_ASSIGN(entry.lease, f.get_string("lease"));
    }
    if (f.has("output_tokens")) {  // optional in every version, all four together
        entry.has_tokens = true;
        TRY_ASSIGN(entry.prompt_tokens, f.get_int("prompt_tokens"));
        TRY_ASSIGN(entry.output_tokens, f.get_int("output_tokens"));
        TRY_ASSIGN(entry.output_image_tokens, f.get_int("output_image_tokens"));
        TRY_ASSIGN(entry.thoughts_tokens, f.get_int("thoughts_tokens"));
    }
    if (f.has("usage_anomaly")) {  // optional in every version
        TRY_ASSIGN(entry.usage_anomaly, f.get_string("usage_anomaly"));
    }
    // The reservation fields (reservations.hpp), optional in every version.
    if (f.has("kind")) {
        TRY_ASSIGN(entry.kind, f.get_string("kind"));
    }
    if (f.has("reservation")) {
        TRY_ASSIGN(entry.reservation, f.get_string("reservation"));
    }
    if (f.has("reserved")) {  // as cost: an untrustworthy amount holds its worst case
        TRY_ASSIGN(const util::MoneyReading reserved, f.get_money_reading("reserved"));
        entry.reserved = reserved.micros;
    }
    if (f.has("requests")) {
        TRY_ASSIGN(entry.requests, f.get_int32("requests"));
    }
    if (f.has("settled")) {
        TRY_ASSIGN(entry.settled, f.get_money("settled"));
    }
    if (f.has("batch")) {
        TRY_ASSIGN(entry.batch, f.get_string("batch"));
    }
    if (f.has("recorded_ts")) {
        TRY_ASSIGN(entry.recorded_ts, f.get_int("recorded_ts"));
    }
    if (f.has("uri")) {  // optional in every version: a paid image's place and hash
        TRY_ASSIGN(entry.uri, f.get_string("uri"));
    }
    if (f.has("sha256")) {
        TRY_ASSIGN(entry.sha256, f.get_string("sha256"));
    }
    return util::ok_status();
}

}  // namespace

util::Result<Entry> parse_line(std::string_view line) {
    TRY_ASSIGN(auto f, JsonLineFields::parse(line));
    Entry entry;
    TRY_ASSIGN(entry.ts, f.get_int("ts"));
    TRY_ASSIGN(entry.user_id, f.get_string("userId"));
    TRY_ASSIGN(entry.job_id, f.get_string("jobId"));
    TRY_ASSIGN(entry.prompt, f.get_string("prompt"));
    TRY_ASSIGN(entry.images, f.get_int32("images"));
    TRY_ASSIGN(const util::MoneyReading cost, f.get_money_reading("cost"));
    entry.cost = cost.micros;
    if (!cost.exact()) {
        auto text = f.get_money_text("cost");
        entry.cost_problem = "cost: \"" + (text.ok() ? *text : std::string("(not a number)")) +
                             "\" " + cost.problem();
    }
    if (!f.has("v")) {
        entry.v = 0;
        entry.status = "ok";
        return entry;
    }
    TRY_ASSIGN(entry.v, f.get_int32("v"));
    if (entry.v < 0) {
        return util::error(util::Code::invalid_input,
                           "v: \"" + std::to_string(entry.v) + "\" is not a schema version");
    }
    if (entry.v == 0) {
        entry.status = "ok";
        return entry;
    }
    TRY(read_our_fields(f, entry.v <= k_schema_version, entry));
    return entry;
}

}  // namespace assetgen::ledger
