// Recording one image's outcome: the stored image, its manifest line and its ledger line on
// success; a charged ledger line for a bad image or a failure. See runner_attempt.cpp for the
// attempts that lead here and runner.cpp for the whole picture.
#include "schedule/runner_impl.hpp"

#include <nlohmann/json.hpp>

#include "budget/usage_check.hpp"
#include "provider/image_check.hpp"
#include "provider/image_sizes.hpp"
#include "provider/quota_failure.hpp"
#include "schedule/content_key.hpp"
#include "util/hash.hpp"
#include "util/money.hpp"
#include "util/text.hpp"

namespace assetgen::schedule {

using namespace detail;

void sign_manifest_entry(const SignUrl& sign_url, ledger::ManifestEntry& m,
                         report::EventSink* events) {
    if (!sign_url || !storage::is_gcs(m.uri)) {
        return;
    }
    auto signed_url = sign_url(m.uri);
    if (signed_url.ok()) {
        m.signed_url = signed_url->first;
        m.signed_url_expires = signed_url->second;
    } else if (events != nullptr) {
        events->emit("sign_failed", {{"uri", m.uri}, {"message", signed_url.status().message()}});
    }
}

void Runner::Impl::set_tokens(ledger::Entry& e, const provider::Usage& u) {
    e.usage_anomaly = budget::usage_anomaly(u);
    if (!e.usage_anomaly.empty()) {
        return;  // the cost is the worst case: counts that cannot be a bill are not written as one
    }
    e.has_tokens = true;
    e.prompt_tokens = u.prompt_tokens;
    e.output_tokens = u.output_tokens;
    e.output_image_tokens = u.output_image_tokens;
    e.thoughts_tokens = u.thoughts_tokens;
}

ledger::Entry Runner::Impl::base_entry(const batch::Row& row, int variant) const {
    ledger::Entry e;
    e.ts = deps.clock.unix_ms();
    e.user_id = settings.user;
    e.job_id = settings.job_id;
    e.prompt = row.prompt;
    e.scene_id = row.scene_id;
    e.variant = variant;
    e.model = row.model.empty() ? settings.model : row.model;
    e.mode = std::string(ledger::run_mode_name(settings.mode));
    e.shard = settings.shard;
    e.tier = std::string(budget::tier_name(settings.tier));
    e.lease = deps.budget.lease_id();
    return e;
}

util::Result<ledger::ManifestEntry> Runner::Impl::store_image(const Item& item, Attempted& a) {
    const auto& row = item.row->data.row;
    const std::string name =
        row.safe_id + "_v" + std::to_string(item.variant) + "." + extension_for(a.result.mime_type);
    const std::string uri = storage::join(storage::join(settings.job_dir, row.safe_id), name);
    // Durable with its manifest line's group (durable_log.hpp), not by a sync of its own.
    TRY(deps.manifest.put_image(deps.storage, uri, a.result.data, a.result.mime_type));

    ledger::ManifestEntry m;
    m.ts = deps.clock.unix_ms();
    m.job_id = settings.job_id;
    m.scene_id = row.scene_id;
    m.variant = item.variant;
    m.uri = uri;
    m.sha256 = util::sha256_hex(a.result.data);
    m.bytes = static_cast<std::int64_t>(a.result.data.size());
    m.mime = a.result.mime_type;
    m.latency_ms = a.latency_ms;
    m.attempts = a.attempts;
    m.cost = a.cost;
    m.estimated = a.estimate;
    m.model = row.model.empty() ? settings.model : row.model;
    m.mode = std::string(ledger::run_mode_name(settings.mode));
    m.ledger_id = settings.job_id + "/" + row.safe_id + "/v" + std::to_string(item.variant);
    if (settings.remade.count(done_key(row.scene_id, item.variant))) {
        m.ledger_id += "/remade-" + std::to_string(m.ts);
    }
    m.shard = settings.shard;
    m.user_id = settings.user;
    m.prompt = row.prompt;
    m.content = content_key(
        row_content_part(row, ContentSettings{settings.mode, settings.model, settings.image_size}),
        settings.global_refs);
    m.tier = std::string(budget::tier_name(settings.tier));  // written only when not standard
    sign_manifest_entry(deps.sign_url, m, &deps.events);
    return m;
}

Status Runner::Impl::charge_image(const Item& item, Attempted& a, const ledger::ManifestEntry& m) {
    const auto& row = item.row->data.row;
    ledger::Entry e = base_entry(row, item.variant);
    e.ts = m.ts;
    e.images = 1;
    e.cost = a.cost;
    e.estimated = a.estimate;
    e.status = "ok";
    e.id = m.ledger_id;
    e.uri = m.uri;
    e.sha256 = m.sha256;
    set_tokens(e, a.result.usage);
    TRY(deps.ledger.append(e));
    a.charged = true;
    return Status();
}

void Runner::Impl::record_success(const Item& /*item*/, const Attempted& a,
                                  const ledger::ManifestEntry& m, VariantOutcome& o) {
    o.kind = Kind::ok;
    o.uri = m.uri;
    o.signed_url = m.signed_url;
    o.cost = a.cost;
    o.latency_ms = a.latency_ms;
    o.attempts = a.attempts;
}

void Runner::Impl::record_bad_image(const Item& item, int attempt, Micros cost, Micros estimate,
                                    const Status& why) {
    const auto& row = item.row->data.row;
    ledger::Entry e = base_entry(row, item.variant);
    e.images = 0;
    e.cost = cost;
    e.estimated = estimate;
    e.status = std::string(util::code_name(why.code()));
    e.error_code = e.status;
    e.id = settings.job_id + "/" + row.safe_id + "/v" + std::to_string(item.variant) + "/" +
           e.status + "/a" + std::to_string(attempt) + "/" + std::to_string(e.ts);
    if (why.usage()) {
        set_tokens(e, *why.usage());
    }
    if (auto st = deps.ledger.append(e); !st.ok()) {
        ledger_line_failed(row, item.variant, st, "the ledger line of a billed bad answer");
    }
    deps.events.emit("bad_image", {{"scene_id", row.scene_id},
                                   {"variant", item.variant},
                                   {"attempt", attempt},
                                   {"cost_usd", util::to_dollars(cost)},
                                   {"message", why.message()}});
}

void Runner::Impl::ledger_line_failed(const batch::Row& row, int variant, const Status& st,
                                      const std::string& what) {
    deps.events.emit("error", {{"scene_id", row.scene_id},
                               {"variant", variant},
                               {"error_code", util::code_name(st.code())},
                               {"message", what + ": " + st.message()}});
    RunnerLock lock(dispatch_mutex);
    if (fatal.ok()) {
        fatal = st;
    }
    set_halt(Halt::error);
}

void Runner::Impl::record_failure(const Item& item, const Attempted& a, VariantOutcome& o) {
    const auto& row = item.row->data.row;
    const Code code = a.status.code();
    const bool cancelled = code == Code::cancelled;
    // A request that was made (paid or not) or refused by the budget gets a ledger line;
    // an image that never started does not.
    const bool made = a.started && !cancelled;
    o.kind = made ? Kind::failed : Kind::not_run;
    o.code = code;
    o.message = a.status.message();
    o.cost = a.cost;
    o.attempts = a.attempts;
    // An image whose ok ledger line is written, or whose manifest line is durable, is charged
    // by that line (or by the one the next run's reconciliation restores from the manifest),
    // never by a failure line as well.
    if ((made || code == Code::budget_exceeded) && !a.in_manifest && !a.charged) {
        ledger::Entry e = base_entry(row, item.variant);
        e.images = 0;
        e.cost = a.cost;
        e.estimated = made ? a.estimate : 0;
        e.status = std::string(util::code_name(code));
        e.error_code = e.status;
        e.id = settings.job_id + "/" + row.safe_id + "/v" + std::to_string(item.variant) + "/" +
               e.status + "/" + std::to_string(e.ts);
        if (made && a.usage) {
            set_tokens(e, *a.usage);  // a billed refusal: `ledger verify` checks its cost
        }
        if (auto st = deps.ledger.append(e); !st.ok()) {
            ledger_line_failed(row, item.variant, st, "the ledger line of a failure");
        }
    }
    if (o.kind == Kind::failed) {
        RunnerLock s(stats_mutex);
        ++summary.errors;
        ++summary.errors_by_code[std::string(util::code_name(a.status.code()))];
    }
    if (a.status.code() != Code::cancelled) {
        deps.events.emit("error", {{"scene_id", row.scene_id},
                                   {"variant", item.variant},
                                   {"where", row.where},
                                   {"error_code", util::code_name(a.status.code())},
                                   {"message", a.status.message()},
                                   {"attempts", a.attempts}});
    }
}

}  // namespace assetgen::schedule
