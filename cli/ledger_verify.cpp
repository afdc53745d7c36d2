// `assetgen ledger verify`: the ledger against the manifests.
#include "ledger_common.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "auth/env.hpp"
#include "budget/amounts.hpp"
#include "budget/prices.hpp"
#include "budget/spend.hpp"
#include "commands.hpp"
#include "flag_checks.hpp"
#include "ledger/audit.hpp"
#include "ledger/gcs_ledger_store.hpp"
#include "ledger/gcs_manifests.hpp"
#include "ledger/json_line.hpp"
#include "storage/gcs_url.hpp"
#include "storage/storage.hpp"
#include "table.hpp"
#include "util/atomic_file.hpp"
#include "util/clock.hpp"
#include "util/safe_dir.hpp"
#include "util/text.hpp"

namespace assetgen::cli::ledger_cmd {

using util::Code;

// --- verify ---------------------------------------------------------------------------------

// A read-only Cloud Storage client for gs:// manifests: the ledger's when it has one.
util::Result<storage::GcsClient*> manifest_client(const LedgerAccess& access,
                                                  std::unique_ptr<ledger::GcsConnection>& own) {
    if (access.location.gcs != nullptr) {
        return access.location.gcs;
    }
    if (!own) {
        TRY_ASSIGN(own, connect_read_only(*access.context));
    }
    return own->client.get();
}

util::Result<std::vector<std::string>> manifests_to_check(
    const LedgerOptions& o, Console& console, const LedgerAccess& access,
    std::unique_ptr<ledger::GcsConnection>& own, storage::GcsClient*& client) {
    if (!o.manifests.empty()) {
        for (const auto& path : o.manifests) {
            TRY(check_location_flag("--manifest", path));
            if (storage::is_gcs(path)) {
                TRY_ASSIGN(client, manifest_client(access, own));
                TRY_ASSIGN(const storage::GcsUrl url, storage::parse_gcs_url(path));
                auto there = client->stat(url);
                if (!there.ok()) {
                    return there.status().code() == Code::not_found
                               ? util::error(Code::not_found, path + ": no such manifest")
                               : util::error(there.status().code(),
                                             path + ": " + there.status().message());
                }
                continue;
            }
            std::error_code ec;
            if (!std::filesystem::is_regular_file(path, ec)) {
                return util::error(Code::not_found, path + ": no such manifest");
            }
        }
        return o.manifests;
    }
    const std::string out = o.out.empty() ? "out" : o.out;
    if (storage::is_gcs(out)) {
        TRY(check_location_flag("--out", out));
        TRY_ASSIGN(client, manifest_client(access, own));
        return ledger::find_gcs_manifests(*client, out);
    }
    TRY(local_only("--out", out, "manifests are read from a local output folder only"));
    std::error_code ec;
    if (!std::filesystem::is_directory(out, ec)) {
        if (!o.out.empty()) {
            return util::error(Code::not_found, out + ": no such output folder");
        }
        console.info("no ./out folder: checking the ledger alone (--out names the output folder)");
        return std::vector<std::string>{};
    }
    return ledger::find_manifests(out);
}

// The open reservations (pending batches), one note each with its age: not problems until
// they are stale (a finding of their own).
void note_open_reservations(Console& console, const std::vector<ledger::OpenReservation>& open) {
    for (const auto& r : open) {
        const std::string late =
            r.age_ms > ledger::k_reservation_stale_ms  ? " (stale: see the finding above)"
            : r.age_ms > ledger::k_reservation_late_ms ? " (late: past the Batch API's 24 h target)"
                                                       : "";
        console.info(
            r.where + ": open reservation \"" + r.id + "\" of job " + r.job_id + " (batch \"" +
            r.batch + "\") holds " + util::format_usd(r.outstanding) + ", reserved " +
            util::format_duration(std::chrono::milliseconds(std::max<std::int64_t>(0, r.age_ms))) +
            " ago" + late);
    }
}

std::string open_reservations_json(const std::vector<ledger::OpenReservation>& open) {
    std::string text = "[";
    for (std::size_t i = 0; i < open.size(); ++i) {
        ledger::JsonLineWriter w;
        w.add_string("id", open[i].id)
            .add_string("where", open[i].where)
            .add_string("jobId", open[i].job_id)
            .add_string("batch", open[i].batch)
            .add_money("heldUsd", open[i].outstanding)
            .add_int("ageSeconds", open[i].age_ms / 1000);
        text += (i > 0 ? "," : "") + json_object(w);
    }
    return text + "]";
}

util::Result<ExitCode> run_verify(const LedgerOptions& o, Console& console,
                                  const context::Context& ctx) {
    TRY(existing_folder(o.folder));
    TRY_ASSIGN(const LedgerAccess access, open_ledger(o.folder_name, o.folder, ctx));
    std::unique_ptr<ledger::GcsConnection> manifests_connection;
    storage::GcsClient* manifests_gcs = nullptr;
    TRY_ASSIGN(const auto manifests,
               manifests_to_check(o, console, access, manifests_connection, manifests_gcs));
    // Costs are judged by tokens with the prices the runs used: the built-in table unless the
    // same --prices / --price-per-image are given.
    auto prices = std::make_shared<budget::PriceTable>(budget::PriceTable::builtin());
    if (!o.prices_file.empty()) {
        TRY_ASSIGN(auto text, util::read_file(o.prices_file));
        TRY(prices->load_json(text, o.prices_file, o.i_mean_it));
    }
    if (!o.price_per_image_text.empty()) {
        TRY_ASSIGN(
            const util::Micros price,
            flag_value("--price-per-image",
                       budget::parse_amount(o.price_per_image_text, budget::k_price_per_image,
                                            o.i_mean_it, "--price-per-image")));
        prices->set_price_per_image(price);
    }
    ledger::VerifyOptions options;
    options.expected_cost = [prices](const ledger::Entry& e) -> std::optional<util::Micros> {
        const auto tier = budget::parse_tier(e.tier);
        if (!tier) {
            return std::nullopt;  // a tier this build does not price
        }
        auto c = prices->actual(e.model, "", e.prompt_tokens, e.output_tokens, e.thoughts_tokens,
                                e.output_image_tokens, *tier);
        return c.ok() ? std::optional<util::Micros>(*c) : std::nullopt;
    };
    options.manifests_gcs = manifests_gcs;
    options.now_ms = util::system_clock().unix_ms();
    TRY_ASSIGN(const ledger::VerifyReport report,
               ledger::verify_report(access.location, manifests, options));

    std::map<std::string, int> by_kind;
    for (const auto& f : report.findings) {
        ++by_kind[std::string(ledger::finding_kind_name(f.kind))];
    }
    if (o.json) {
        std::string text = "{\"ok\":" + std::string(report.findings.empty() ? "true" : "false") +
                           ",\"findings\":[";
        for (std::size_t i = 0; i < report.findings.size(); ++i) {
            const auto& f = report.findings[i];
            ledger::JsonLineWriter w;
            w.add_string("kind", ledger::finding_kind_name(f.kind))
                .add_string("where", f.where)
                .add_string("message", f.message);
            text += (i > 0 ? "," : "") + json_object(w);
        }
        text += "],\"entries\":" + std::to_string(report.entries) +
                ",\"files\":" + std::to_string(report.files) +
                ",\"manifests\":" + std::to_string(manifests.size()) +
                ",\"manifestLines\":" + std::to_string(report.manifest_lines) +
                ",\"openReservations\":" + open_reservations_json(report.open_reservations) + "}\n";
        print(text);
    } else {
        for (const auto& f : report.findings) {
            print(f.where + ": " + std::string(ledger::finding_kind_name(f.kind)) + ": " +
                  f.message + "\n");
        }
    }

    note_open_reservations(console, report.open_reservations);
    const std::string checked =
        plural(report.entries, "entry", "entries") + " in " +
        plural(static_cast<std::int64_t>(report.files), "day file", "day files") + ", " +
        plural(report.manifest_lines, "manifest line", "manifest lines") + " in " +
        plural(static_cast<std::int64_t>(manifests.size()), "manifest", "manifests");
    if (report.findings.empty()) {
        console.info("ledger verify: ok: " + checked);
        return ExitCode::ok;
    }
    std::string kinds;
    for (const auto& [kind, n] : by_kind) {
        kinds += (kinds.empty() ? "" : ", ") + std::to_string(n) + " " + kind;
    }
    console.error("ledger verify: " +
                  plural(static_cast<std::int64_t>(report.findings.size()), "problem", "problems") +
                  " (" + kinds + ") in " + checked);
    // 1 is "finished, but something is wrong" for every subcommand (DESIGN.md §10).
    return ExitCode::rows_failed;
}

}  // namespace assetgen::cli::ledger_cmd
