#include "canary/report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <utility>

#include <nlohmann/json.hpp>

#include "canary/format.hpp"
#include "report/table.hpp"

namespace assetgen::canary {
namespace {

using report::Align;
using report::Column;
using report::Table;

using format::fixed;
using format::percent;

std::string ms(double v) {
    return std::to_string(std::llround(v)) + " ms";
}

std::string usd(double dollars) {
    return util::format_usd(util::to_micros(dollars));
}

std::string p_value(double p) {
    return "p " + format::p_text(p);
}

bool is_baseline_gate(const GateResult& g) {
    return g.name == "latency_vs_baseline" || g.name == "error_rate_vs_baseline";
}

std::string gate_value(const GateResult& g) {
    if (g.name == "error_rate") {
        return percent(g.value);
    }
    if (g.name == "p95_ms") {
        return ms(g.value);
    }
    if (g.name == "cost_per_image") {
        return usd(g.value);
    }
    if (is_baseline_gate(g)) {
        return p_value(g.value);
    }
    return fixed(g.value, 4);
}

// The condition a gate passes on.
std::string gate_condition(const GateResult& g) {
    if (g.name == "error_rate") {
        return "<= " + percent(g.limit);
    }
    if (g.name == "p95_ms") {
        return "<= " + ms(g.limit);
    }
    if (g.name == "cost_per_image") {
        return "<= " + usd(g.limit);
    }
    if (is_baseline_gate(g)) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "p >= %.3g", g.limit);
        return buf;
    }
    return "<= " + fixed(g.limit, 4);
}

// "MODEL_UNAVAILABLE 2, TIMEOUT 1": most frequent first, then by name.
std::string codes_text(const std::map<std::string, std::uint64_t>& codes) {
    std::vector<std::pair<std::string, std::uint64_t>> sorted(codes.begin(), codes.end());
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    std::string out;
    for (const auto& [code, n] : sorted) {
        if (n == 0) {
            continue;
        }
        out += (out.empty() ? "" : ", ") + code + " " + std::to_string(n);
    }
    return out;
}

std::string stage_name(const StageReport& s) {
    return stage_label(s.index, s.stage_count, s.percent);
}

}  // namespace

std::string stage_label(std::size_t index, std::size_t count, int percent) {
    return "stage " + std::to_string(index + 1) + "/" + std::to_string(count) + " (" +
           std::to_string(percent) + "%)";
}

void CanaryReport::add_stage(StageReport stage) {
    const Verdict v = stage.evaluation.verdict;
    const bool last = stage.index + 1 >= stages.size();
    stages_run.push_back(std::move(stage));
    if (v == Verdict::fail) {
        verdict = Verdict::fail;
    } else {
        verdict = last ? v : Verdict::inconclusive;
    }
}

const GateResult* CanaryReport::failed_gate() const {
    if (verdict != Verdict::fail || stages_run.empty()) {
        return nullptr;
    }
    return stages_run.back().evaluation.first_failed();
}

std::string render_stage(const StageReport& s) {
    const StageStats& st = s.stats;
    std::string out = stage_name(s) + ": " + std::to_string(st.rows) + " rows (" +
                      std::to_string(s.new_rows) + " new), " + std::to_string(st.images) +
                      " images";
    if (st.earlier > 0) {
        out += " (" + std::to_string(st.earlier) + " from an earlier run)";
    }
    out += ", " + std::to_string(st.errors) + " errors";
    if (const std::string codes = codes_text(st.errors_by_code); !codes.empty()) {
        out += " (" + codes + ")";
    }
    out += "\n";
    const auto& h = st.latency_ms;
    out += "latency p50 " + ms(static_cast<double>(h.percentile(50))) + ", p95 " +
           ms(static_cast<double>(h.percentile(95))) + ", p99 " +
           ms(static_cast<double>(h.percentile(99))) + "; cost " +
           (st.cost_per_image() ? usd(*st.cost_per_image()) + " per image, " : std::string()) +
           util::format_usd(st.cost) + " in all\n";

    Table gates({{"gate"},
                 {"value", Align::right},
                 {"pass if", Align::right},
                 {"samples", Align::right},
                 {"verdict"},
                 {"detail"}});
    for (const auto& g : s.evaluation.gates) {
        gates.add_row({g.name, gate_value(g), gate_condition(g), std::to_string(g.samples),
                       std::string(verdict_name(g.verdict)), g.detail});
    }
    out += gates.render_aligned();
    out += stage_name(s) + ": " + std::string(verdict_name(s.evaluation.verdict)) + "\n";
    return out;
}

std::string render_canary(const CanaryReport& c) {
    Table t({{"stage"},
             {"share", Align::right},
             {"rows", Align::right},
             {"new", Align::right},
             {"images", Align::right},
             {"errors", Align::right},
             {"error rate", Align::right},
             {"p50 ms", Align::right},
             {"p95 ms", Align::right},
             {"p99 ms", Align::right},
             {"per image", Align::right},
             {"verdict"}});
    for (const auto& s : c.stages_run) {
        const StageStats& st = s.stats;
        t.add_row({std::to_string(s.index + 1) + "/" + std::to_string(s.stage_count),
                   std::to_string(s.percent) + "%", std::to_string(st.rows),
                   std::to_string(s.new_rows), std::to_string(st.images), std::to_string(st.errors),
                   percent(st.error_rate()), std::to_string(st.latency_ms.percentile(50)),
                   std::to_string(st.latency_ms.percentile(95)),
                   std::to_string(st.latency_ms.percentile(99)),
                   st.cost_per_image() ? usd(*st.cost_per_image()) : "-",
                   std::string(verdict_name(s.evaluation.verdict))});
    }
    std::string out = t.render_aligned();
    const std::size_t planned = c.stages.size();
    const std::size_t ran = c.stages_run.size();
    out += "canary " + std::string(verdict_name(c.verdict)) + ": " + std::to_string(ran) + " of " +
           std::to_string(planned) + " stages run";
    if (const GateResult* g = c.failed_gate()) {
        out += "; stopped by " + g->name + " (" + gate_value(*g) + ", pass if " +
               gate_condition(*g) + ")";
        if (ran < planned) {
            out +=
                "; stages " + std::to_string(ran + 1) + "-" + std::to_string(planned) + " not run";
        }
    } else if (c.verdict == Verdict::inconclusive && ran == planned && ran > 0) {
        std::string which;
        for (const auto& g : c.stages_run.back().evaluation.gates) {
            if (g.verdict == Verdict::inconclusive) {
                which += (which.empty() ? "" : ", ") + g.name;
            }
        }
        out += "; not enough samples for " + which;
    }
    if (c.rows_beyond > 0) {
        out += "; " + std::to_string(c.rows_beyond) + " rows beyond the last stage (" +
               std::to_string(c.stages.empty() ? 0 : c.stages.back()) + "%) not run";
    }
    out += "\n";
    return out;
}

nlohmann::json to_json(const StageReport& s) {
    const StageStats& st = s.stats;
    nlohmann::json gates = nlohmann::json::array();
    for (const auto& g : s.evaluation.gates) {
        gates.push_back({{"name", g.name},
                         {"value", g.value},
                         {"limit", g.limit},
                         {"samples", g.samples},
                         {"verdict", std::string(verdict_name(g.verdict))},
                         {"detail", g.detail}});
    }
    nlohmann::json j;
    j["stage"] = s.index + 1;
    j["stages"] = s.stage_count;
    j["percent"] = s.percent;
    j["rows"] = st.rows;
    j["newRows"] = s.new_rows;
    j["images"] = st.images;
    j["imagesEarlier"] = st.earlier;
    j["errors"] = st.errors;
    j["errorsByCode"] = st.errors_by_code;
    j["errorRate"] = st.error_rate();
    j["latencyMs"] = {{"count", st.latency_ms.count()},
                      {"p50", st.latency_ms.percentile(50)},
                      {"p95", st.latency_ms.percentile(95)},
                      {"p99", st.latency_ms.percentile(99)},
                      {"max", st.latency_ms.max()}};
    j["costUsd"] = util::to_dollars(st.cost);
    j["costPerImageUsd"] =
        st.cost_per_image() ? nlohmann::json(*st.cost_per_image()) : nlohmann::json();
    j["gates"] = std::move(gates);
    j["verdict"] = std::string(verdict_name(s.evaluation.verdict));
    return j;
}

nlohmann::json to_json(const CanaryReport& c) {
    nlohmann::json results = nlohmann::json::array();
    for (const auto& s : c.stages_run) {
        results.push_back(to_json(s));
    }
    const GateResult* failed = c.failed_gate();
    return {{"v", 1},
            {"stages", c.stages},
            {"salt", c.salt},
            {"batchRows", c.batch_rows},
            {"rowsBeyondLastStage", c.rows_beyond},
            {"verdict", std::string(verdict_name(c.verdict))},
            {"failedGate", failed ? nlohmann::json(failed->name) : nlohmann::json()},
            {"results", std::move(results)}};
}

}  // namespace assetgen::canary
