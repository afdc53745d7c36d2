#include "schedule/canary_run.hpp"

#include <fstream>
#include <mutex>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <nlohmann/json.hpp>

#include "canary/stages.hpp"
#include "ledger/manifest.hpp"

namespace assetgen::schedule {

namespace {

// Images an earlier run of this job made, by scene_id, from the job's local manifest (read
// before any stage runs, so every line is an earlier run's). A torn or unreadable line is
// skipped: the stage then counts fewer earlier images, never wrong ones.
struct EarlierImage {
    std::int64_t latency_ms = 0;
    util::Micros cost = 0;
};
using EarlierImages = std::unordered_map<std::string, std::vector<EarlierImage>>;

EarlierImages read_earlier_images(const std::string& manifest_path) {
    EarlierImages out;
    std::ifstream in(manifest_path);
    std::set<std::pair<std::string, int>> seen;
    std::string line;
    while (std::getline(in, line)) {
        auto m = ledger::parse_manifest_line(line);
        if (!m.ok() || !seen.insert({m->scene_id, m->variant}).second) {
            continue;
        }
        out[m->scene_id].push_back({m->latency_ms, m->cost});
    }
    return out;
}

// One canary in progress: the plan, what the stages have added up so far, and the rows the
// filter found in no stage.
class StageDriver {
public:
    StageDriver(JobSession& session, const CanaryOptions& options, const CanaryCallbacks& callbacks)
        : m_session(session), m_options(options), m_callbacks(callbacks) {
        m_outcome.report.stages = options.stages;
        m_outcome.report.salt = options.salt;
        m_outcome.report.batch_rows = session.plan().rows;
    }

    // Runs stage i; false when the canary ends with it (decided in m_outcome).
    bool run_stage(std::size_t i, const EarlierImages& earlier) {
        // Execute the stage's rows (the earlier stages' are done already).
        auto summary = execute(i);
        // A stage that could not run ends the canary without records.
        if (!summary.ok()) {
            return end(CanaryDecision::error, summary.status());
        }
        // Add its numbers, and those of its rows' images an earlier run made, to the sample.
        add_to_sample(i, *summary, earlier);
        // A stopped run (signal, budget, quota, auth) ends the canary before any judging.
        if (const auto how = summary->status; how && stops_canary(*how)) {
            m_outcome.stopped_by = how;
            notify(m_callbacks.stage_stopped, i, *summary);
            return end(CanaryDecision::stopped);
        }
        // Judge the sample so far, record the stage and go on, stop or finish.
        return judge(i, *summary);
    }

    CanaryOutcome take() {
        m_outcome.report.rows_beyond = m_beyond.size();
        return std::move(m_outcome);
    }

private:
    template <typename F, typename... Args>
    static void notify(const F& f, Args&&... args) {
        if (f) {
            f(std::forward<Args>(args)...);
        }
    }

    bool end(CanaryDecision decision, util::Status error = util::ok_status()) {
        m_outcome.decision = decision;
        m_outcome.error = std::move(error);
        return false;
    }

    util::Result<report::Summary> execute(std::size_t i) {
        const auto filter = [this, i](const batch::Row& row) {
            const auto s = canary::stage_of(row.scene_id, m_options.salt, m_options.stages);
            if (!s) {
                // Rows in no stage (a last stage below 100), seen while the filter sees them all.
                std::lock_guard lock(m_beyond_mutex);
                m_beyond.insert(row.scene_id);
            }
            return s && *s == i;
        };
        notify(m_callbacks.stage_started, i);
        auto summary = m_session.execute(
            filter, [this](const RowResult& r) { notify(m_callbacks.on_row, r); },
            [this, i](const Progress& p) { notify(m_callbacks.on_progress, i, p); });
        notify(m_callbacks.stage_ran, i);
        return summary;
    }

    void add_to_sample(std::size_t i, const report::Summary& summary,
                       const EarlierImages& earlier) {
        m_stats.add(summary);
        for (const auto& [scene_id, images] : earlier) {
            if (canary::stage_of(scene_id, m_options.salt, m_options.stages) == i) {
                for (const auto& e : images) {
                    m_stats.add_earlier_image(e.latency_ms, e.cost);
                }
            }
        }
        report::merge_into(m_outcome.total, summary);
    }

    bool judge(std::size_t i, const report::Summary& summary) {
        const auto& stages = m_options.stages;
        canary::StageReport stage;
        stage.index = i;
        stage.stage_count = stages.size();
        stage.percent = stages[i];
        stage.new_rows = summary.rows;
        stage.stats = m_stats;
        stage.evaluation = canary::evaluate(m_stats, m_options.gates);
        const auto next = canary::next_step(stage.evaluation.verdict, i + 1 == stages.size());
        notify(m_callbacks.stage_judged, stage, next);
        m_session.emit("canary_stage", canary::to_json(stage));
        m_outcome.report.add_stage(std::move(stage));
        switch (next) {
            case canary::Next::next_stage:
                return true;
            case canary::Next::stop_failed:
                return end(CanaryDecision::no_go);
            case canary::Next::finish_pass:
                return end(CanaryDecision::go);
            case canary::Next::finish_inconclusive:
                return end(CanaryDecision::inconclusive);
        }
        return end(CanaryDecision::inconclusive);
    }

    JobSession& m_session;
    const CanaryOptions& m_options;
    const CanaryCallbacks& m_callbacks;
    canary::StageStats m_stats;
    CanaryOutcome m_outcome;
    std::mutex m_beyond_mutex;
    std::unordered_set<std::string> m_beyond;
};

}  // namespace

bool stops_canary(RunEnd end) {
    switch (end) {
        case RunEnd::interrupted:
        case RunEnd::budget_exceeded:
        case RunEnd::upstream_unavailable:
        case RunEnd::quota_daily:
        case RunEnd::spend_cap:
        case RunEnd::billing_cap:
        case RunEnd::auth_failed:
        case RunEnd::pending:  // a canary never runs the batch tier
            return true;
        case RunEnd::ok:
        case RunEnd::failed:
        case RunEnd::error:
            break;
    }
    return false;
}

util::Result<std::optional<canary::Baseline>> load_canary_baseline(const std::string& location,
                                                                   storage::Storage& storage) {
    if (location.empty()) {
        return std::optional<canary::Baseline>();
    }
    auto text = storage.get(location);
    if (!text.ok()) {
        return util::Status(text.status().code(), "--baseline: " + text.status().message());
    }
    TRY_ASSIGN(auto baseline, canary::baseline_from_json(*text, location));
    return std::optional<canary::Baseline>(std::move(baseline));
}

CanaryOutcome run_canary_stages(JobSession& session, const CanaryOptions& options,
                                const CanaryCallbacks& callbacks) {
    // Images an earlier run of the job made, read before any stage adds to the manifest.
    const EarlierImages earlier = read_earlier_images(session.place().manifest());
    // The stages in order, each executed, judged and recorded, until one ends the canary.
    StageDriver driver(session, options, callbacks);
    for (std::size_t i = 0; i < options.stages.size(); ++i) {
        if (!driver.run_stage(i, earlier)) {
            break;
        }
    }
    return driver.take();
}

util::Status finish_canary(JobSession& session, const CanaryOutcome& outcome) {
    report::Summary total = outcome.total;
    const auto& plan = session.plan();
    total.images_skipped = plan.images - plan.images_to_run;
    return session.finish(std::move(total)).status();
}

}  // namespace assetgen::schedule
