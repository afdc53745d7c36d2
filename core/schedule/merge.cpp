// How this works: the batch is read once to validate it and once more, row by row, to emit the
// combined records in input order. Each shard's manifest is read whole (a missing one is an
// empty shard, reported); a (scene, variant) seen twice keeps its first line, so the combined
// manifest has each image once even if shard counts changed between runs.
#include "schedule/merge.hpp"

#include <sstream>
#include <unordered_map>

#include "ledger/gcs_manifests.hpp"
#include "ledger/manifest.hpp"
#include "report/html_report.hpp"
#include "report/results_csv.hpp"
#include "report/summary.hpp"
#include "schedule/default_folders.hpp"
#include "schedule/gcs_job_lock.hpp"
#include "schedule/job_files.hpp"
#include "schedule/job_plan.hpp"
#include "schedule/ledger_backend.hpp"
#include "schedule/shard.hpp"
#include "storage/storage.hpp"
#include "util/text.hpp"

namespace assetgen::schedule {

namespace {

void say(const std::function<void(const std::string&)>& f, const std::string& text) {
    if (f) {
        f(text);
    }
}

// The text at location, "" with found=false when there is none.
util::Result<std::string> get_optional(storage::Storage& storage, const std::string& location,
                                       bool& found) {
    auto text = storage.get(location);
    if (!text.ok()) {
        if (text.status().code() == util::Code::not_found) {
            found = false;
            return std::string();
        }
        return text.status();
    }
    found = true;
    return std::move(text).value();
}

// A shard killed between an image's manifest line and its ledger line left a paid image without
// its line, and its budget holdings counted. The merge holds the job exclusively (no shard runs),
// so it writes those lines back and releases the dead shards' holdings, as the unsharded run does.
util::Status restore_shard_ledger_lines(const SessionOptions& o, const JobPlace& place,
                                        storage::AnyStorage& storage, util::Clock& clock,
                                        const SessionLog& log) {
    const std::vector<std::string> shards = local_shard_manifests(place);
    if (shards.empty()) {
        return util::ok_status();
    }
    TRY_ASSIGN(auto ledger, open_ledger_backend(o, storage, clock, log));
    TRY_ASSIGN(const std::size_t restored, ledger->open_writer(place.manifest(), shards));
    if (restored > 0) {
        say(log.info, "ledger: restored " + std::to_string(restored) +
                          " line(s) for images a killed shard stored but never recorded");
    }
    BudgetOpening bo;
    bo.limit = o.daily_limit;
    bo.manifest = place.manifest();
    bo.more_manifests = shards;
    bo.holder = "job " + place.job_id + " (--merge)";
    TRY(ledger->open_budget(bo));
    return ledger->flush_last();
}

}  // namespace

util::Result<MergeReport> merge_shards(SessionOptions o, int shard_count,
                                       const context::Context& ctx, const SessionLog& log,
                                       const PlaceCheck& check_place) {
    util::Clock& clock = ctx.clock;
    if (shard_count < 1) {
        return util::error(util::Code::config, "--merge: the number of shards must be 1 or more");
    }
    TRY(resolve_default_folders(o, log, ctx.places));
    storage::AnyStorage storage(ctx.env, ctx.transport, clock, ctx.gcs_options());
    // The input, the job id, the (unsharded) place and a valid batch, as a run plans them.
    JobPlanRequest request;
    request.purpose = PlanPurpose::merge;
    request.check_place = check_place;
    request.temp_dir = ctx.places.temp_dir;
    TRY_ASSIGN(const JobPlan job, plan_job(o, storage, clock, log, request));
    const JobPlace& place = job.place;
    const Plan& plan = job.plan;
    BatchInput& input = *job.input;
    MergeReport merged;
    merged.job_id = place.job_id;

    // The job's own records are rewritten: no run of the job may write them meanwhile.
    TRY_ASSIGN(const JobLock lock, JobLock::acquire(place.local_root, "", merged.job_id));
    // A gs:// job: on every machine (gcs_job_lock.hpp), as an unsharded run.
    std::unique_ptr<GcsJobLock> bucket_lock;
    if (place.remote()) {
        TRY_ASSIGN(storage::GcsStorage * gcs, storage.gcs());
        TRY_ASSIGN(GcsJobLockOptions lo, job_lock_options(gcs->client(), place.dir, merged.job_id,
                                                          "", place.local_root, o.job_lock_ttl));
        lo.log = log.warn;
        TRY_ASSIGN(bucket_lock, GcsJobLock::acquire(std::move(lo), clock));
    }
    TRY(restore_shard_ledger_lines(o, place, storage, clock, log));
    // Every shard's manifest lines, the first line of each image kept.
    std::unordered_map<std::string, ledger::ManifestEntry> images;
    report::Summary total;
    merged.missing_by_shard.assign(static_cast<std::size_t>(shard_count), 0);
    for (int i = 0; i < shard_count; ++i) {
        Shard shard;
        shard.index = i;
        shard.count = shard_count;
        const std::string records = storage::join(place.dir, "shards/" + shard.dir_name());
        const std::string manifest_at = storage::join(records, "manifest.jsonl");
        bool found = false;
        TRY_ASSIGN(const std::string text, get_optional(storage, manifest_at, found));
        if (!found) {
            merged.shards_without_manifest.push_back(i);
        }
        std::vector<ledger::ReadIssue> issues;
        ledger::read_manifest_text(
            manifest_at, text,
            [&](const ledger::ManifestEntry& m, const ledger::LinePlace&) {
                images.try_emplace(done_key(m.scene_id, m.variant), m);
            },
            &issues);
        for (const auto& issue : issues) {
            say(log.warn, issue.file + ":" + std::to_string(issue.line) + ": " + issue.message);
        }
        TRY_ASSIGN(const std::string summary_text,
                   get_optional(storage, storage::join(records, "summary.json"), found));
        if (!found) {
            merged.shards_without_summary.push_back(i);
            continue;
        }
        nlohmann::json j = nlohmann::json::parse(summary_text, nullptr, false);
        auto part = report::summary_from_json(j, storage::join(records, "summary.json"));
        if (!part.ok()) {
            say(log.warn, part.status().message() + " (left out of the combined summary)");
            continue;
        }
        report::merge_into(total, *part);
    }

    // The images an unsharded run of the job made are the job's too (the manifest written below
    // replaces its own, so they must stay in it).
    {
        bool found = false;
        TRY_ASSIGN(const std::string text,
                   get_optional(storage, place.published_manifest(), found));
        // Its bad lines were reported when the run wrote it; here they are only left out.
        ledger::read_manifest_text(
            place.published_manifest(), text,
            [&](const ledger::ManifestEntry& m, const ledger::LinePlace&) {
                images.try_emplace(done_key(m.scene_id, m.variant), m);
            },
            nullptr);
    }
    if (merged.shards_without_manifest.size() == static_cast<std::size_t>(shard_count)) {
        // Nothing to combine: a wrong --shards or other options (another job id). Writing an
        // empty manifest over the job's would only hide the mistake.
        return util::error(
            util::Code::not_found,
            "--merge: no shard of " + place.dir + " has a manifest (looked for shards/<I>-of-" +
                std::to_string(shard_count) +
                "/manifest.jsonl); check --shards and that the options are the shards' own");
    }

    // The batch again, in input order: the combined manifest and the results.
    std::string manifest_text;
    std::ostringstream results_buffer;
    std::unique_ptr<report::ResultsCsvWriter> results;
    if (!o.results.empty()) {
        results = std::make_unique<report::ResultsCsvWriter>(results_buffer, plan.columns);
    }
    std::vector<report::ReportCard> cards;  // --report: a card per image of the batch
    TRY_ASSIGN(auto reader, RowReader::open(input, o.plan.validation, plan.columns));
    for (;;) {
        TRY_ASSIGN(auto br, reader->next());
        if (!br) {
            break;
        }
        ++merged.rows;
        report::ResultRow rr;
        rr.input = br->cells;
        util::Micros cost = 0;
        int present = 0;
        for (int v = 1; v <= br->row.variants; ++v) {
            ++merged.images;
            auto it = images.find(done_key(br->row.scene_id, v));
            report::ReportCard card;
            card.scene_id = br->row.scene_id;
            card.variant = v;
            card.prompt = br->row.prompt;
            if (it == images.end()) {
                if (!o.report.empty()) {
                    const int home = shard_of(br->row.scene_id, shard_count);
                    card.status = "missing";
                    card.error = "in no shard's manifest (shard " + std::to_string(home) + "/" +
                                 std::to_string(shard_count) +
                                 "): run that shard again, then merge";
                    cards.push_back(std::move(card));
                }
                continue;
            }
            if (!o.report.empty()) {
                card.status = "ok";
                card.cost = it->second.cost;
                card.image = it->second.uri;
                card.signed_url = it->second.signed_url;
                cards.push_back(std::move(card));
            }
            ++present;
            manifest_text += ledger::to_line(it->second);
            rr.images.push_back(it->second.signed_url.empty() ? it->second.uri
                                                              : it->second.signed_url);
            cost += it->second.cost;
        }
        merged.images_present += static_cast<std::size_t>(present);
        if (present < br->row.variants) {
            ++merged.rows_missing;
            ++merged.missing_by_shard[static_cast<std::size_t>(
                shard_of(br->row.scene_id, shard_count))];
            rr.status = "missing";
            rr.error = std::to_string(br->row.variants - present) + " of " +
                       std::to_string(br->row.variants) +
                       " image(s) in no shard's manifest (shard " +
                       std::to_string(shard_of(br->row.scene_id, shard_count)) + "/" +
                       std::to_string(shard_count) + ")";
        } else {
            rr.status = "ok";
        }
        rr.cost_usd = util::format_usd(cost).substr(1);
        if (results) {
            results->write(rr);
        }
    }

    merged.manifest = place.published_manifest();
    merged.summary = storage::join(place.dir, "summary.json");
    TRY(storage.put(merged.manifest, manifest_text, "application/x-ndjson"));
    merged.summary_json = report::to_json(total);
    merged.summary_json["merged"] = {{"shards", shard_count},
                                     {"rows", merged.rows},
                                     {"images", merged.images},
                                     {"imagesPresent", merged.images_present},
                                     {"rowsMissing", merged.rows_missing},
                                     {"shardsWithoutManifest", merged.shards_without_manifest},
                                     {"shardsWithoutSummary", merged.shards_without_summary}};
    TRY(storage.put(
        merged.summary,
        merged.summary_json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n",
        "application/json"));
    if (results) {
        TRY(storage.put(o.results, results_buffer.str(), "text/csv"));
    }
    if (!o.report.empty()) {
        report::HtmlReportOptions ho;
        ho.title =
            "assetgen · " + merged.job_id + " (" + std::to_string(shard_count) + " shards merged)";
        ho.job_id = merged.job_id;
        ho.mode = std::string(ledger::run_mode_name(o.mode));
        ho.model = o.plan.model;
        ho.generated_ms = clock.unix_ms();
        ho.summary = &total;
        if (storage::is_gcs(o.report)) {
            TRY(storage.put(o.report, report::render_html_report(cards, ho),
                            "text/html; charset=utf-8"));
        } else {
            TRY(report::write_html_report(o.report, cards, ho));
        }
    }
    return merged;
}

}  // namespace assetgen::schedule
