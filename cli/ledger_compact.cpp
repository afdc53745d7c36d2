// `assetgen ledger compact`: exact duplicate lines dropped from local day files.
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
#include "ledger/json_line.hpp"
#include "storage/storage.hpp"
#include "table.hpp"
#include "util/atomic_file.hpp"
#include "util/clock.hpp"
#include "util/safe_dir.hpp"
#include "util/text.hpp"

namespace assetgen::cli::ledger_cmd {

using util::Code;

// --- compact --------------------------------------------------------------------------------

util::Result<ExitCode> run_compact(const LedgerOptions& o, Console& console,
                                   const context::Context& /*ctx: compact is local only*/) {
    TRY(local_only(o.folder_name, o.folder,
                   "compact works on local ledger folders only; a gs:// ledger needs "
                   "none (its writer never appends a line twice)"));
    TRY(existing_folder(o.folder));
    // The ledger folder is the write root, as in `run`: day files and their temp files are
    // reached with openat/O_NOFOLLOW below it, so a symbolic link there is refused.
    util::confine_writes({o.folder}, o.follow_symlinks);
    std::vector<std::string> days;
    if (o.all) {
        TRY_ASSIGN(const auto files, ledger::list_day_files(o.folder, ledger::ReadOptions{}));
        for (const auto& path : files) {
            std::string day;
            if (ledger::is_day_file_name(std::filesystem::path(path).filename().string(), &day)) {
                days.push_back(day);
            }
        }
        if (days.empty()) {
            console.info("no day files in \"" + o.folder + "\": nothing to compact");
        }
    } else {
        days.push_back(o.day);
    }

    std::string json_days;
    std::size_t dropped = 0;
    for (const auto& day : days) {
        // Each day is rewritten atomically on its own: a failure leaves earlier days compacted
        // and this one as it was.
        TRY_ASSIGN(const ledger::CompactResult r, ledger::compact(o.folder, day));
        dropped += r.dropped;
        if (o.json) {
            ledger::JsonLineWriter w;
            w.add_string("day", day)
                .add_int("lines", static_cast<std::int64_t>(r.lines))
                .add_int("dropped", static_cast<std::int64_t>(r.dropped));
            json_days += (json_days.empty() ? "" : ",") + json_object(w);
        } else {
            print(
                day + ": dropped " +
                plural(static_cast<std::int64_t>(r.dropped), "duplicate line", "duplicate lines") +
                " of " + std::to_string(r.lines) + "\n");
        }
    }
    if (o.json) {
        print("{\"days\":[" + json_days + "],\"dropped\":" + std::to_string(dropped) + "}\n");
    } else if (o.all) {
        print("total: dropped " +
              plural(static_cast<std::int64_t>(dropped), "duplicate line", "duplicate lines") +
              " in " + plural(static_cast<std::int64_t>(days.size()), "day file", "day files") +
              "\n");
    }
    return ExitCode::ok;
}

}  // namespace assetgen::cli::ledger_cmd
