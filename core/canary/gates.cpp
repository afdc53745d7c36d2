// Gate evaluation. Every gate reports its value even when it has too few samples, so the
// report shows where a canary is heading; only the verdict waits for min_samples.

#include "canary/gates.hpp"

#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "canary/format.hpp"
#include "canary/stats.hpp"

namespace assetgen::canary {
namespace {

using format::fixed;
using format::p_text;
using format::percent;

std::string samples_wanted(std::uint64_t have, std::uint64_t want) {
    return std::to_string(have) + " sample(s), " + std::to_string(want) + " needed";
}

// Applies min_samples (and "no samples at all") to a gate whose verdict is otherwise decided.
void settle(GateResult& g, bool failed, std::uint64_t min_samples) {
    if (g.samples == 0 || g.samples < min_samples) {
        g.verdict = Verdict::inconclusive;
        const std::string why = samples_wanted(g.samples, std::max<std::uint64_t>(min_samples, 1));
        g.detail = g.detail.empty() ? why : why + "; " + g.detail;
        return;
    }
    g.verdict = failed ? Verdict::fail : Verdict::pass;
}

util::Status out_of_range(const char* flag, double value, const std::string& range) {
    return util::error(util::Code::invalid_input,
                       std::string(flag) + ": \"" + fixed(value, 6) + "\" is not " + range);
}

}  // namespace

std::string_view verdict_name(Verdict verdict) {
    switch (verdict) {
        case Verdict::pass:
            return "pass";
        case Verdict::fail:
            return "fail";
        case Verdict::inconclusive:
            return "inconclusive";
    }
    return "inconclusive";
}

Baseline baseline_from_summary(const report::Summary& summary, std::string source) {
    Baseline b;
    b.source = std::move(source);
    b.latency_ms = summary.latency_ms;
    b.images = summary.images_generated;
    b.errors = summary.errors;
    return b;
}

util::Result<Baseline> baseline_from_json(std::string_view text, const std::string& source) {
    nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
        return util::error(util::Code::invalid_input,
                           source + ": not JSON (give the summary.json of an earlier run)");
    }
    TRY_ASSIGN(report::Summary summary, report::summary_from_json(j, source));
    return baseline_from_summary(summary, source);
}

util::Status check_settings(const GateSettings& s) {
    if (!(s.max_error_rate >= 0.0 && s.max_error_rate <= 1.0)) {
        return out_of_range("--max-error-rate", s.max_error_rate, "between 0 and 1");
    }
    if (s.max_p95_ms && !(*s.max_p95_ms > 0.0 && std::isfinite(*s.max_p95_ms))) {
        return out_of_range("--max-p95-ms", *s.max_p95_ms, "a positive number of milliseconds");
    }
    if (s.max_cost_per_image &&
        !(*s.max_cost_per_image >= 0.0 && std::isfinite(*s.max_cost_per_image))) {
        return out_of_range("--max-cost-per-image", *s.max_cost_per_image, "zero or more dollars");
    }
    if (!(s.confidence >= 0.5 && s.confidence < 1.0)) {
        return out_of_range("--confidence", s.confidence, "between 0.5 and 1 (e.g. 0.98)");
    }
    return util::ok_status();
}

void StageStats::add(const report::Summary& stage) {
    rows += stage.rows;
    images += stage.images_generated;
    errors += stage.errors;
    for (const auto& [code, n] : stage.errors_by_code) {
        errors_by_code[code] += n;
    }
    latency_ms.merge(stage.latency_ms);
    cost += stage.actual_cost;
}

void StageStats::add_earlier_image(std::int64_t latency, util::Micros image_cost) {
    ++images;
    ++earlier;
    latency_ms.record(latency);
    cost += image_cost;
}

double StageStats::error_rate() const {
    const std::uint64_t n = attempted();
    return n == 0 ? 0.0 : static_cast<double>(errors) / static_cast<double>(n);
}

std::optional<double> StageStats::cost_per_image() const {
    if (images == 0) {
        return std::nullopt;
    }
    return util::to_dollars(cost) / static_cast<double>(images);
}

const GateResult* Evaluation::first_failed() const {
    for (const auto& g : gates) {
        if (g.verdict == Verdict::fail) {
            return &g;
        }
    }
    return nullptr;
}

Evaluation evaluate(const StageStats& stats, const GateSettings& settings) {
    Evaluation e;
    const std::uint64_t min = settings.min_samples;

    {
        GateResult g{"error_rate", stats.error_rate(), settings.max_error_rate, stats.attempted()};
        g.detail = std::to_string(stats.errors) + " of " + std::to_string(stats.attempted()) +
                   " images failed";
        settle(g, g.value > g.limit, min);
        e.gates.push_back(std::move(g));
    }
    if (settings.max_p95_ms) {
        GateResult g{"p95_ms", static_cast<double>(stats.latency_ms.percentile(95)),
                     *settings.max_p95_ms, stats.latency_ms.count()};
        settle(g, g.value > g.limit, min);
        e.gates.push_back(std::move(g));
    }
    if (settings.max_cost_per_image) {
        GateResult g{"cost_per_image", stats.cost_per_image().value_or(0.0),
                     *settings.max_cost_per_image, stats.images};
        g.detail =
            util::format_usd(stats.cost) + " for " + std::to_string(stats.images) + " images";
        // Compared in micro-dollars per image so that $0.039 against a $0.039 limit passes.
        settle(g, std::llround(g.value * 1e6) > std::llround(g.limit * 1e6), min);
        e.gates.push_back(std::move(g));
    }
    if (settings.baseline) {
        const Baseline& base = *settings.baseline;
        const double alpha = settings.alpha();
        {
            const MannWhitney mw =
                mann_whitney(stats.latency_ms, base.latency_ms, Alternative::greater);
            GateResult g{"latency_vs_baseline", mw.p_value, alpha, std::min(mw.n1, mw.n2)};
            const auto p50 = stats.latency_ms.percentile(50);
            const auto base_p50 = base.latency_ms.percentile(50);
            g.detail = "p50 " + std::to_string(p50) + " ms vs " + std::to_string(base_p50) +
                       " ms in " + base.source;
            if (base_p50 > 0) {
                g.detail += " (x" +
                            fixed(static_cast<double>(p50) / static_cast<double>(base_p50), 2) +
                            ")";
            }
            g.detail += ", P(canary slower) " + fixed(mw.effect(), 2) + ", Mann-Whitney p " +
                        p_text(mw.p_value);
            settle(g, mw.p_value < alpha, min);
            e.gates.push_back(std::move(g));
        }
        {
            const Proportions pr = compare_proportions(stats.errors, stats.attempted(), base.errors,
                                                       base.attempted(), Alternative::greater);
            GateResult g{"error_rate_vs_baseline", pr.p_value, alpha,
                         std::min(stats.attempted(), base.attempted())};
            g.detail = percent(pr.rate1) + " vs " + percent(pr.rate2) + " in " + base.source +
                       ", " + (pr.exact ? "Fisher exact" : "two-proportion z") + " p " +
                       p_text(pr.p_value);
            settle(g, pr.p_value < alpha, min);
            e.gates.push_back(std::move(g));
        }
    }

    bool any_inconclusive = false;
    e.verdict = Verdict::pass;
    for (const auto& g : e.gates) {
        if (g.verdict == Verdict::fail) {
            e.verdict = Verdict::fail;
            return e;
        }
        any_inconclusive = any_inconclusive || g.verdict == Verdict::inconclusive;
    }
    if (any_inconclusive) {
        e.verdict = Verdict::inconclusive;
    }
    return e;
}

Next next_step(Verdict verdict, bool last_stage) {
    if (verdict == Verdict::fail) {
        return Next::stop_failed;
    }
    if (!last_stage) {
        return Next::next_stage;
    }
    return verdict == Verdict::pass ? Next::finish_pass : Next::finish_inconclusive;
}

}  // namespace assetgen::canary
