#pragma once
// Output paths cannot hit records. Before a run starts (before any money), every output it
// writes at the end (--results, --report, --metrics-file replace a file; --events appends) is
// checked against what the run reads or keeps: the input batch, the ledger folder (today's day
// file is in it), the job folder (images, manifest, state, summary, shard records) and the spool
// folder. Local paths are compared after resolving symlinks: the output by the real path of its
// folder plus its name, the records by their real paths (and an existing output by its inode,
// so a hard link is found too). gs:// locations are compared as text. An output that exists and
// is not a regular file (a symlink, a device, a FIFO, a folder) is refused too: a file is
// replaced, never something else. `--events -` is stdout and is not checked.
// Every refusal is CONFIG_ERROR naming the flag, its value and what it would hit; the command
// line reports it as a usage error (exit 2).

#include <string>
#include <vector>

#include "util/status.hpp"

namespace assetgen::schedule {

struct OutputPath {
    std::string flag;   // "--results"
    std::string value;  // as given ("" = not given: skipped)
};

struct KeptPlace {
    std::string what;     // "the input batch", "the ledger folder", ...
    std::string value;    // path or gs:// location ("" or "-" = skipped)
    bool folder = false;  // outputs inside it are refused too
};

util::Status check_output_paths(const std::vector<OutputPath>& outputs,
                                const std::vector<KeptPlace>& kept);

struct JobPlace;

// With --out and --ledger the same folder, the job folder (<out>/<job>) cannot take a name the
// ledger keeps there (totals, .budget, budget, a *.jsonl day file): USAGE_ERROR naming --job-id.
// Checked before the job's folder is made.
util::Status check_job_folder(const std::string& ledger, const JobPlace& place);

}  // namespace assetgen::schedule
