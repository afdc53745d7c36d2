// One image: the one retry loop with its gates (budget, circuit breaker, rate limit); the
// outcome is recorded in runner_record.cpp. See runner.cpp for the whole picture.
#include "schedule/runner_impl.hpp"

#include <nlohmann/json.hpp>

#include "budget/usage_check.hpp"
#include "provider/image_check.hpp"
#include "provider/image_sizes.hpp"
#include "provider/quota_failure.hpp"
#include "schedule/content_key.hpp"
#include "util/hash.hpp"
#include "util/money.hpp"
#include "util/retry.hpp"
#include "util/text.hpp"

namespace assetgen::schedule {

using namespace detail;

provider::ImageRequest Runner::Impl::make_request(
    const batch::Row& row, int variant, const std::vector<provider::RefImage>& refs) const {
    provider::ImageRequest req;
    req.model = row.model.empty() ? settings.model : row.model;
    req.prompt = row.prompt;
    req.scene_id = row.scene_id;
    req.variant = variant;
    req.aspect_ratio = row.aspect_ratio;
    req.image_size = settings.image_size;
    req.refs = refs;
    if (!req.refs.empty()) {
        req.prompt += "\n\n" + ref_mode_instruction(row.ref_mode);
    }
    return req;
}

Runner::Impl::Attempted Runner::Impl::attempt_loop(const Item& item,
                                                   const std::vector<provider::RefImage>& refs) {
    Attempted out;
    const auto& row = item.row->data.row;
    provider::ImageRequest req = make_request(row, item.variant, refs);
    budget::RequestShape shape{req.model, req.image_size, req.prompt.size(), req.refs.size(),
                               settings.tier};
    // One ceiling for both sides: what the budget reserves and what the API is told it may
    // bill (maxOutputTokens, thinking level).
    auto ceiling = deps.prices.ceiling(shape);
    if (!ceiling.ok()) {
        out.status = ceiling.status();
        return out;
    }
    const Micros* worst = &ceiling->worst_case;
    req.max_output_tokens = ceiling->max_output_tokens;
    req.thinking_level = ceiling->thinking_level;
    req.image_tokens = ceiling->image_tokens;
    out.estimate = ceiling->estimate;
    const std::uint64_t item_hash =
        util::fnv1a64(row.scene_id) ^ (static_cast<std::uint64_t>(item.variant) << 32);

    // One attempt of the request; a way out that is not a failure to retry (stopped, budget,
    // gates, quota stop, an image, a billed final answer) sets `done` with out.status.
    bool done = false;
    auto one = [&](int attempt) -> Status {
        out.attempts = attempt;
        req.attempt = attempt;
        auto finish = [&]() -> Status {
            done = true;
            return out.status.ok() ? Status() : out.status;
        };
        if (deps.stop.load() != 0) {
            out.status = Status(Code::cancelled, "stopped before the request started");
            return finish();
        }
        if (spend_rate.enabled()) {
            out.rate_ticket = wait_spend_rate(row, item.variant, *worst, out.status);
            if (out.rate_ticket == 0) {
                return finish();
            }
        }
        // Every way out of this attempt below ends the ticket: a request not sent or refused
        // frees it now; a paid answer keeps it at its cost (execute() settles the image's).
        auto free_ticket = [&](Micros spent) {
            if (out.rate_ticket != 0) {
                spend_rate.settle(out.rate_ticket, spent, deps.clock.steady());
                out.rate_ticket = 0;
            }
        };
        if (!deps.budget.reserve(*worst)) {
            free_ticket(0);
            set_halt(Halt::budget);
            emit_budget_event(*worst);
            out.status =
                Status(Code::budget_exceeded, "the daily budget has no room for this image");
            return finish();
        }
        bool probe = false;
        Status gate = pass_gates(probe);
        if (!gate.ok()) {
            free_ticket(0);
            deps.budget.settle(*worst, 0);
            out.status = gate;
            return finish();
        }
        if (halt.load() == Halt::quota) {  // a hard 429 came while this one waited: not sent
            free_ticket(0);
            deps.budget.settle(*worst, 0);
            out.status = quota_not_sent();
            return finish();
        }
        auto t0 = deps.clock.steady();
        in_flight.fetch_add(1);
        {
            RunnerLock s(stats_mutex);
            ++summary.requests;
        }
        auto r = deps.provider.generate(req);
        in_flight.fetch_sub(1);
        out.started = true;
        out.latency_ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(deps.clock.steady() - t0).count();
        if (r.ok() && r->simulated_latency) {
            out.latency_ms = r->simulated_latency->count();
        }
        Status st;
        if (r.ok()) {
            const auto& u = r->usage;
            const Micros paid = billed_cost(row, item.variant, req, u, *worst);
            if (paid > *worst) {
                note_overrun(row, item.variant, paid, *worst, u, req.max_output_tokens);
            }
            note_breaker(true, probe);
            // The image is counted only once its bytes are an image; a billed answer that is
            // not one is recorded with its cost and made again.
            auto format = provider::inspect_image(r->data);
            if (format.ok()) {
                note_size(row, item.variant, req, *format);
                out.cost = paid;
                out.reserved = *worst;  // settled by execute() once the ledger line is written
                out.result = std::move(r).value();
                out.result.mime_type = format->mime_type;  // the bytes decide the file's extension
                out.status = Status();
                return finish();
            }
            st = Status(Code::bad_response,
                        "the answer's image is not an image: " + format.status().message() +
                            " (billed; made again)");
            record_bad_image(item, attempt, paid, out.estimate, st);
            free_ticket(paid);  // its ledger line is written
            deps.budget.settle(*worst, paid);
            out.wasted += paid;
        } else {
            st = r.status();
            note_breaker(!util::is_transient(st.code()), probe);
            if (st.usage()) {
                // An answer without an image that Google billed anyway (blocked for safety,
                // text only): it costs what its usage says, and the budget counts it.
                const Micros paid = billed_cost(row, item.variant, req, *st.usage(), *worst);
                if (paid > *worst) {
                    note_overrun(row, item.variant, paid, *worst, *st.usage(),
                                 req.max_output_tokens);
                }
                if (!settings.retry.should_retry(st, attempt)) {
                    out.cost = paid;  // recorded with its tokens on the request's failure line
                    out.usage = *st.usage();
                    out.reserved = *worst;  // settled by execute() once that line is written
                    out.status = st;
                    return finish();
                }
                record_bad_image(item, attempt, paid, out.estimate, st);
                free_ticket(paid);  // its ledger line is written
                deps.budget.settle(*worst, paid);
                out.wasted += paid;
            } else {
                free_ticket(0);
                deps.budget.settle(*worst, 0);
                if (provider::is_quota_stop(st.code())) {  // never retried: the run stops sending
                    note_quota_stop(row, item.variant, st);
                    out.status = st;
                    return finish();
                }
            }
        }
        return st;
    };
    auto classify = [&](const Status& st) {
        util::RetryClass c = util::classify_transient(st);
        c.retryable = c.retryable && !done;
        return c;
    };
    util::RetryHooks hooks;
    int draws = 0;  // one draw per retry: the same jitter as each attempt's own seed
    hooks.random = [&] {
        return util::splitmix64(settings.jitter_seed ^ item_hash ^
                                static_cast<std::uint64_t>(++draws));
    };
    hooks.on_retry = [&](const util::RetryNotice& n) {
        {
            RunnerLock s(stats_mutex);
            ++summary.retries;
        }
        deps.events.emit("retry", {{"scene_id", row.scene_id},
                                   {"variant", item.variant},
                                   {"attempt", n.attempt},
                                   {"error_code", util::code_name(n.status->code())},
                                   {"message", n.status->message()},
                                   {"delay_ms", n.delay.count()}});
    };
    hooks.wait = [&](std::chrono::milliseconds d) { return wait_until(deps.clock.steady() + d); };
    auto tried = util::retry_loop(
        deps.clock, model_retry_policy(settings.retry, settings.backoff, settings.max_retry_delay),
        one, classify, hooks);
    if (done) {
        return out;
    }
    switch (tried.stop) {
        case util::StopReason::hint_too_long:
            out.status = hint_too_long(row, item.variant, tried.value);
            break;
        case util::StopReason::cancelled:
            out.status = Status(Code::cancelled, "stopped while waiting to retry");
            break;
        default:
            out.status = tried.value;
            break;
    }
    return out;
}

// The image is kept whatever its size (it was paid for); a size other than the one asked for
// is said once on stderr, each time in the events, and counted in the summary (sizeMismatch).
void Runner::Impl::note_size(const batch::Row& row, int variant, const provider::ImageRequest& req,
                             const provider::ImageInfo& info) {
    if (settings.mode != ledger::RunMode::live) {
        return;  // the dry run's synthetic images have the --simulate size by design
    }
    if (req.aspect_ratio.empty() && !req.refs.empty()) {
        return;  // without a ratio the model may follow the input image's
    }
    const auto want = provider::documented_size(req.model, req.image_size, req.aspect_ratio);
    if (!want || info.height == 0) {
        return;
    }
    const provider::PixelSize got{info.width, info.height};
    if (provider::size_matches(*want, got)) {
        return;
    }
    {
        RunnerLock s(stats_mutex);
        ++summary.size_mismatch;
    }
    auto px = [](const provider::PixelSize& p) {
        return std::to_string(p.width) + "x" + std::to_string(p.height);
    };
    const std::string asked =
        (req.image_size.empty() ? std::string("default size") : "imageSize " + req.image_size) +
        ", aspect ratio " +
        (req.aspect_ratio.empty() ? std::string("1:1 (default)") : req.aspect_ratio);
    deps.events.emit("size_mismatch", {{"scene_id", row.scene_id},
                                       {"variant", variant},
                                       {"model", req.model},
                                       {"expected", px(*want)},
                                       {"got", px(got)}});
    if (deps.warn && !size_warned.exchange(true)) {
        deps.warn(
            row.where + ": scene_id \"" + row.scene_id + "\" v" + std::to_string(variant) +
            ": the image is " + px(got) + ", not the " + px(*want) + " Google documents for " +
            req.model + " at " + asked +
            "; kept (it was paid for); every such image is counted in the summary's sizeMismatch");
    }
}

// What the price table makes of an answer's usage; the reservation when it cannot say.
Micros Runner::Impl::billed_cost(const batch::Row& row, int variant,
                                 const provider::ImageRequest& req, const provider::Usage& u,
                                 Micros reserved) {
    const budget::Bill b =
        budget::bill(deps.prices, req.model, req.image_size, u, settings.tier, reserved);
    if (!b.anomaly.empty()) {
        note_usage_anomaly(row, variant, req, u, b.anomaly, b.cost);
    }
    return b.cost;
}

// The charge is the reservation, so the budget stays whole and dispatch goes on; the ledger
// line names the anomaly (set_tokens), and the operator hears of it once per run.
void Runner::Impl::note_usage_anomaly(const batch::Row& row, int variant,
                                      const provider::ImageRequest& req, const provider::Usage& u,
                                      const std::string& anomaly, Micros charged) {
    deps.events.emit("budget", {{"event_detail", "usage_anomaly"},
                                {"scene_id", row.scene_id},
                                {"variant", variant},
                                {"usage_anomaly", anomaly},
                                {"cost_usd", util::to_dollars(charged)},
                                {"max_output_tokens", req.max_output_tokens},
                                {"prompt_tokens", u.prompt_tokens},
                                {"output_tokens", u.output_tokens},
                                {"thoughts_tokens", u.thoughts_tokens}});
    if (deps.warn && !usage_warned.exchange(true)) {
        deps.warn(row.where + ": scene_id \"" + row.scene_id + "\" v" + std::to_string(variant) +
                  ": the server's usageMetadata cannot be a bill (" + anomaly +
                  "); charged the request's worst case " + util::format_usd(charged) +
                  " (its reservation); every such answer is a usage_anomaly event and ledger "
                  "field");
    }
}

// A server that asks to wait longer than --max-retry-delay (a quota that resets tomorrow, a
// hostile or broken hint of hours) gets no retry: the request ends with the quota code, and
// the operator hears about it once per run on stderr, not only in the events.
Status Runner::Impl::hint_too_long(const batch::Row& row, int variant, const Status& st) {
    const auto asked = *st.retry_after();
    const std::string text = "the server asked to wait " + util::format_duration(asked) + " (" +
                             std::to_string(asked.count() / 1000) +
                             "s) before a retry, longer than --max-retry-delay " +
                             util::format_duration(settings.max_retry_delay);
    deps.events.emit("retry_refused", {{"scene_id", row.scene_id},
                                       {"variant", variant},
                                       {"error_code", util::code_name(Code::rate_limited)},
                                       {"message", st.message()},
                                       {"asked_ms", asked.count()},
                                       {"max_retry_delay_ms", settings.max_retry_delay.count()}});
    if (deps.warn && !hint_warned.exchange(true)) {
        deps.warn(row.where + ": " + text +
                  "; such requests end as MODEL_RATE_LIMIT (raise "
                  "--max-retry-delay to wait)");
    }
    Status out(Code::rate_limited, text + " (" + st.message() + ")");
    out.with_retry_after(asked);
    if (st.http_status() != 0) {
        out.with_http_status(st.http_status());
    }
    return out;
}

std::uint64_t Runner::Impl::wait_spend_rate(const batch::Row& row, int variant, Micros worst,
                                            Status& why) {
    if (worst > spend_rate.rate().limit) {
        // The pre-flight refuses such a batch; a prompt grown by the refs' instruction can
        // still get here. Never sent.
        why = Status(Code::config, row.where + ": one request may cost up to " +
                                       util::format_usd(worst) + ", more than --max-spend-rate " +
                                       format_spend_rate(spend_rate.rate()));
        RunnerLock lock(dispatch_mutex);
        if (fatal.ok()) {
            fatal = why;
        }
        set_halt(Halt::error);
        return 0;
    }
    const auto t0 = deps.clock.steady();
    for (;;) {
        auto r = spend_rate.try_reserve(worst, deps.clock.steady());
        if (const auto* ticket = std::get_if<std::uint64_t>(&r)) {
            const auto waited =
                std::chrono::duration_cast<std::chrono::milliseconds>(deps.clock.steady() - t0);
            if (waited.count() > 0) {
                deps.events.emit("spend_rate_wait", {{"scene_id", row.scene_id},
                                                     {"variant", variant},
                                                     {"waited_ms", waited.count()},
                                                     {"reserved_usd", util::to_dollars(worst)}});
            }
            return *ticket;
        }
        if (!wait_until(std::get<util::SteadyTime>(r))) {
            why = Status(Code::cancelled, "stopped while waiting for --max-spend-rate");
            return 0;
        }
    }
}

void Runner::Impl::note_quota_stop(const batch::Row& row, int variant, const Status& st) {
    {
        RunnerLock lock(dispatch_mutex);
        if (!quota_stop.ok()) {
            return;  // the first one says it
        }
        quota_stop = st;
        quota_reset = provider::quota_reset_text(st.code(), deps.clock.unix_ms(), st.retry_after());
    }
    set_halt(Halt::quota);
    deps.events.emit("quota_stop", {{"scene_id", row.scene_id},
                                    {"variant", variant},
                                    {"where", row.where},
                                    {"error_code", util::code_name(st.code())},
                                    {"message", st.message()},
                                    {"reset", quota_reset}});
}

Status Runner::Impl::quota_not_sent() {
    Code code = Code::cancelled;
    std::string reset;
    {
        RunnerLock lock(dispatch_mutex);
        code = quota_stop.code();
        reset = quota_reset;
    }
    return Status(code, "not sent: the model API answered " + std::string(util::code_name(code)) +
                            " to an earlier request; " + reset);
}

Status Runner::Impl::pass_gates(bool& probe) {
    for (;;) {
        auto d = breaker.ask(deps.clock.steady());
        if (d.verdict == CircuitBreaker::Verdict::go) {
            break;
        }
        if (d.verdict == CircuitBreaker::Verdict::probe) {
            probe = true;
            deps.events.emit("circuit", {{"state", "half_open"}, {"probe", true}});
            break;
        }
        if (d.verdict == CircuitBreaker::Verdict::give_up) {
            set_halt(Halt::upstream);
            return Status(Code::upstream_unavailable,
                          "the model stayed unavailable longer than --circuit-max-open");
        }
        if (!wait_until(d.retry_at)) {
            return Status(Code::cancelled, "stopped while the circuit was open");
        }
    }
    for (;;) {
        auto next = limiter.try_start(deps.clock.steady());
        if (!next) {
            return Status();
        }
        if (!wait_until(*next)) {
            if (probe) {
                breaker.report(false, true, deps.clock.steady());
            }
            return Status(Code::cancelled, "stopped while waiting for the rate limit");
        }
    }
}

void Runner::Impl::note_breaker(bool success, bool probe) {
    if (breaker.report(success, probe, deps.clock.steady())) {
        auto state = breaker.state();
        deps.events.emit("circuit",
                         {{"state", CircuitBreaker::state_name(state)},
                          {"open_for_ms", breaker.open_for(deps.clock.steady()).count()}});
    }
}

void Runner::Impl::note_overrun(const batch::Row& row, int variant, Micros cost, Micros reserved,
                                const provider::Usage& u, std::int64_t max_output_tokens) {
    // The server billed more than the cap allowed: nothing else is sent. The true cost still
    // goes into the ledger (the caller records it), and the run ends BUDGET_EXCEEDED.
    set_halt(Halt::budget);
    {
        RunnerLock s(stats_mutex);
        ++summary.overrun_requests;
        summary.reservation_overrun = util::add_sat(summary.reservation_overrun, cost - reserved);
    }
    deps.events.emit("budget", {{"event_detail", "overrun"},
                                {"scene_id", row.scene_id},
                                {"variant", variant},
                                {"cost_usd", util::to_dollars(cost)},
                                {"reserved_usd", util::to_dollars(reserved)},
                                {"overrun_usd", util::to_dollars(cost - reserved)},
                                {"max_output_tokens", max_output_tokens},
                                {"prompt_tokens", u.prompt_tokens},
                                {"output_tokens", u.output_tokens},
                                {"thoughts_tokens", u.thoughts_tokens}});
}

void Runner::Impl::emit_budget_event(Micros needed) {
    deps.events.emit("budget", {{"event_detail", "exhausted"},
                                {"limit_usd", util::to_dollars(deps.budget.limit())},
                                {"spent_usd", util::to_dollars(deps.budget.spent())},
                                {"reserved_usd", util::to_dollars(deps.budget.reserved())},
                                {"needed_usd", util::to_dollars(needed)}});
}

}  // namespace assetgen::schedule
