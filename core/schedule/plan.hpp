#pragma once
// Before a run spends anything: the batch opened once and hashed as it is read in (a file,
// stdin, a pipe or a gs:// object, never more than the input limit), every row validated (all
// problems, then stop once), the work left and its cost estimated; then, while running, the
// same rows again one by one (RowReader), from the same descriptor.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "batch/reader.hpp"
#include "batch/validate.hpp"
#include "budget/prices.hpp"
#include "schedule/content_key.hpp"
#include "schedule/runner.hpp"
#include "storage/storage.hpp"
#include "util/status.hpp"

namespace assetgen::schedule {

// The default of --max-input-bytes: the largest batch read (1 GiB).
inline constexpr std::uint64_t k_default_max_input_bytes = 1ull << 30;

// The batch as one open, seekable descriptor. The input is opened once and read once: every
// kind (a regular file, stdin, a FIFO, `<(...)`, a character device such as /dev/zero, a gs://
// object) is copied into an anonymous temp file, hashed while copied and stopped at the limit
// (a regular file larger than the limit is refused unread). Both passes read that copy, so the
// hash is the hash of the rows planned and run even if the input changes meanwhile. The temp
// file is unlinked as soon as it is created, so it disappears on every exit path, signals and
// SIGKILL included.
class BatchInput {
public:
    // location: a path, "-" for stdin, or gs://bucket/object (read through storage, which may
    // be null for the others). format: "" = from the extension (CSV for stdin, pipes and
    // devices without one). Errors: NOT_FOUND "no such file", PERMISSION_DENIED "permission
    // denied", INVALID_INPUT for a folder, empty stdin, or more than max_bytes bytes
    // ("<input>: more than <limit> ... --max-input-bytes"), STORAGE_IO for the temp file.
    // temp_dir: where stdin, pipes and gs:// objects are copied ($TMPDIR, from the Context).
    static util::Result<std::unique_ptr<BatchInput>> open(
        const std::string& location, const std::string& format, storage::Storage* storage,
        std::uint64_t max_bytes = k_default_max_input_bytes, const std::string& temp_dir = "/tmp");
    ~BatchInput();
    BatchInput(const BatchInput&) = delete;
    BatchInput& operator=(const BatchInput&) = delete;

    // The descriptor the readers share (pread from their own offsets); owned by this.
    int fd() const { return m_fd; }
    std::uint64_t size() const { return m_size; }
    // What messages call it: the path, "<stdin>" or the gs:// location.
    const std::string& display_name() const { return m_display; }
    const std::string& sha256() const { return m_sha256; }
    batch::Format format() const { return m_format; }
    // The folder relative local refs start in: the batch file's (the current folder for stdin
    // and gs:// inputs).
    std::string refs_base_dir() const;

private:
    BatchInput() = default;
    std::string m_location;
    std::string m_display;
    std::string m_sha256;
    batch::Format m_format = batch::Format::csv;
    int m_fd = -1;
    std::uint64_t m_size = 0;
};

// "1 GiB", "64 MiB", "512 KiB" or "N bytes", for messages about limits.
std::string format_limit(std::uint64_t bytes);

struct PlanOptions {
    batch::ValidationOptions validation;
    std::string model;  // default model; rows may override
    std::string image_size;
    budget::Tier tier = budget::Tier::standard;  // --tier: whose prices the estimate uses
    int max_refs = 14;
    std::vector<std::string> global_refs;  // --global-ref flags (the file's are added)
    // When set, only the rows it accepts are counted and estimated (a shard's rows); every row
    // is still validated.
    std::function<bool(const batch::Row&)> accept;
    // Mode, default model and size, for the rows' content keys (content_key.hpp).
    ContentSettings content;
    // The model catalog: each row's model (its own, else `model`) is checked against it before
    // anything is spent. A size or aspect ratio the model does not offer is a problem of the
    // row; a model shut down on or before `today` (YYYY-MM-DD, UTC) refuses the plan unless
    // allow_retired_model; a deprecated one adds a warning. Models the catalog does not know
    // (priced by --prices) are not checked. Null: nothing checked.
    std::shared_ptr<const budget::Catalog> catalog;
    std::string today;
    bool allow_retired_model = false;
};

// A row that a run of the job already made an image for, from other content than it has now.
struct ChangedRow {
    std::string where;  // "batch.csv:4"
    std::string scene_id;
};

struct Plan {
    std::vector<std::string> columns;      // results file: the input's columns in order
    std::vector<std::string> global_refs;  // flags, then the file's "global_refs"
    std::size_t rows = 0;
    std::size_t rows_with_refs = 0;
    std::size_t images = 0;         // all variants of all rows
    std::size_t images_to_run = 0;  // minus those already done
    util::Micros estimate = 0;      // of images_to_run
    util::Micros max_worst_case =
        0;  // the largest ceiling of one request to run (--max-spend-rate)
    std::vector<std::string> models_to_run;  // the models of images_to_run, each once, sorted
    std::vector<batch::Problem> problems;    // every problem found; non-empty = refuse
    std::vector<std::string> warnings;       // deprecated models, once each (PlanOptions::catalog)
    // Rows (of those accepted) whose recorded content key differs from theirs now; non-empty
    // = refuse (refuse_changed).
    std::vector<ChangedRow> changed;
};

// Pass 1: reads and validates the whole batch and estimates what is left to do. A bad global
// ref or an unpriced model is an error, and so is a shut-down model (CONFIG_ERROR naming the
// first row that asks for it, or --model); row problems are returned in plan.problems.
util::Result<Plan> plan_batch(const BatchInput& input, const PlanOptions& options,
                              const budget::PriceTable& prices, const DoneIndex& done);

// The refusal for a plan with problems: INVALID_INPUT "<file>: N problem(s); nothing was run
// and nothing was spent".
util::Status refuse_problems(const BatchInput& input, const Plan& plan);

// The refusal for a plan with changed rows: INVALID_INPUT naming the job, how many rows, and
// the fix.
util::Status refuse_changed(const BatchInput& input, const Plan& plan, const std::string& job_id);

// Pass 2: the same file again, row by row, each row's cells in the results' column order. A
// row that no longer validates means the file changed under the run: INVALID_INPUT.
class RowReader {
public:
    static util::Result<std::unique_ptr<RowReader>> open(const BatchInput& input,
                                                         const batch::ValidationOptions& options,
                                                         const std::vector<std::string>& columns);
    util::Result<std::optional<BatchRow>> next();

private:
    RowReader() = default;
    std::unique_ptr<batch::RowSource> m_source;
    std::unique_ptr<batch::Validator> m_validator;
    std::vector<std::string> m_columns;
};

}  // namespace assetgen::schedule
