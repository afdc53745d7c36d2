#pragma once
// The batch tier's engine (`run --tier batch`, issue 17): the job's requests, planned and
// validated as for a synchronous run, go to a BatchService (the Gemini Batch API) in chunks at
// half price. Per chunk, in this order:
//   1. the worst case of its requests at the batch price is reserved in the in-run budget
//      (refused: BUDGET_EXCEEDED, nothing remote is done for it or any later chunk);
//   2. its keys file is written (batch_chunks.hpp), then its reserve line, flushed; the
//      in-run hold then ends (settled as used): from here the reserve line holds the money,
//      for this process and every other one, so it counts once (a gs:// ledger's reserve line
//      names the budget lease it was reserved under, which counts it as that lease's use);
//   3. its request file is written and staged, and the batch created under its display name
//      (create_or_find: looked up first);
//   4. it is polled (backoff from poll_every, doubling, capped) until it ends, or looked at
//      once (wait false), or left at a stop signal (detach: nothing is cancelled);
//   5. its results are streamed: each image is checked, stored, its manifest line made durable
//      and its ledger line (bound to the reservation, cost from usageMetadata at the batch
//      price) written; a key already in the manifest is skipped (a collect that was killed
//      midway and run again writes and charges nothing twice);
//   6. its settle line: actual = every paid line of the reservation, this process's and those
//      an earlier, killed one wrote.
// A re-run starts from the ledger: the job's open reservations are its open chunks, found
// (never created twice) and collected; only requests neither in the manifest nor in any chunk
// already sent form new chunks.

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "budget/budget_guard.hpp"
#include "budget/prices.hpp"
#include "budget/tier.hpp"
#include "ledger/ledger_folder.hpp"
#include "ledger/run_mode.hpp"
#include "provider/batch_service.hpp"
#include "refs/ref_fetcher.hpp"
#include "report/events.hpp"
#include "report/summary.hpp"
#include "schedule/batch_chunks.hpp"
#include "schedule/durable_log.hpp"
#include "schedule/runner.hpp"
#include "storage/storage.hpp"
#include "util/clock.hpp"

namespace assetgen::schedule {

struct BatchRunSettings {
    std::string job_id;
    std::string job_dir;  // <out>/<job>: images go below it
    std::string records;  // where the keys files go (<records>/batch/cN.keys)
    std::string user;
    ledger::RunMode mode = ledger::RunMode::live;
    std::string model;       // default model; rows may override
    std::string image_size;  // "" = model default
    std::string shard;
    int batch_size = 0;  // requests per chunk; 0 = default_batch_size(image_size)
    std::chrono::milliseconds poll_every{30'000};
    std::chrono::milliseconds poll_max{300'000};
    bool wait = true;     // false (--no-wait): create or find, look once, collect what ended
    bool cancel = false;  // --cancel: cancel the open chunks and give their money back
    // --retry-failed: requests that failed inside a batch that ran to its end go in a new
    // chunk (without it a re-run leaves them failed).
    bool retry_failed = false;
    // --retry-tier: with retry_failed and a tier other than batch, those requests are not put
    // in a chunk: they are handed back in BatchRunResult::retry, for the synchronous runner
    // (JobSession::execute_batch sends them at this tier's price).
    budget::Tier retry_tier = budget::Tier::batch;
    std::string temp_dir = "/tmp";  // request files are written here before staging
    // The batch's global refs (--global-ref, a JSON batch's "global_refs"): after each row's
    // own, as a synchronous request sends them.
    std::vector<std::string> global_refs;
    // A chunk's request file stays under this many bytes (its lines; refs make them large):
    // the Batch API's 2 GB input file limit, less a margin.
    std::int64_t max_input_bytes = k_batch_chunk_max_bytes;
};

// What one look at a chunk showed: the progress line and --no-wait's status line.
struct BatchChunkView {
    std::string display_name;
    provider::BatchState state = provider::BatchState::unspecified;
    std::int64_t requests = 0;
    std::int64_t done = 0;      // succeeded + failed
    util::Micros reserved = 0;  // its reservation (the worst case at the batch price)
};

// One image that did not come back.
struct BatchFailure {
    std::string scene_id;
    int variant = 0;
    std::string where;  // the row's place in the input ("b.csv:12")
    std::string code;   // an error code name: BATCH_EXPIRED, MODEL_ERROR, BLOCKED, ...
    std::string message;
};

struct BatchRunDeps {
    util::Clock& clock;
    provider::BatchService& service;
    storage::Storage& storage;  // images and keys files
    ledger::LedgerWriter& ledger;
    DurableManifest& manifest;
    budget::Budget& budget;
    const budget::PriceTable& prices;
    const std::atomic<int>& stop;  // non-zero: stop waiting (detach)
    report::EventSink* events = nullptr;
    std::function<void(const std::string&)> info;            // may be empty
    std::function<void(const BatchChunkView&)> on_progress;  // each look at a chunk
    // The rows' reference images (nullptr: the batch names none), resolved as a synchronous
    // run resolves them and sent inline in each request (the same bytes, the same limits).
    refs::RefFetcher* refs = nullptr;
    // --sign-urls: each collected gs:// image is signed as its manifest line is written, so its
    // URL is valid from the collection, not from the submission. Empty: no signed URLs.
    SignUrl sign_url;
};

enum class BatchRunEnd {
    finished,         // every chunk ended and was collected (rows may have failed)
    pending,          // chunks still run on the service (--no-wait, or a stop signal): exit 75
    cancelled,        // --cancel
    budget_exceeded,  // a chunk's worst case did not fit: it and later chunks were not sent
};

// How one image (row × variant) of the job ended in this run, for the results file and the
// report: status "ok" (uri, signed URL, cost), "pending" (its batch still runs), or an error (code,
// message; cost when the failure was billed). Images an earlier run made are not in it.
struct BatchOutcome {
    std::string status;  // "ok", "pending", "failed"
    std::string uri;
    util::Micros cost = 0;
    std::string code;
    std::string message;
    std::string signed_url;  // with --sign-urls, for an "ok" gs:// image
};

struct BatchRunResult {
    BatchRunEnd end = BatchRunEnd::finished;
    report::Summary summary;              // counts, costs, errors by code of this process's work
    std::vector<BatchChunkView> pending;  // the chunks left running
    std::vector<BatchFailure> failures;   // every image that failed, in the order seen
    int chunks_created = 0;               // new chunks recorded by this process
    int chunks_collected = 0;
    int chunks_cancelled = 0;
    util::Micros given_back = 0;  // reserved money released by settle lines (reserved - actual)
    // By done_key(scene_id, variant): every image this run collected, failed or left pending.
    std::unordered_map<std::string, BatchOutcome> outcomes;
    // retry_tier other than batch: the requests that failed inside a batch that ran to its end
    // and are still not made, as (index in rows, variant), in input order.
    std::vector<std::pair<std::size_t, int>> retry;
    // How the synchronous retry of those ended (unset: there was none).
    std::optional<report::RunStatus> retry_end;
    std::uint64_t rows_pending = 0;  // rows with an image whose batch still runs
};

// The engine. rows: the job's rows (the plan's; every variant of each is a request); done: the
// images the manifest already has; chunks: the job's chunks as the ledger tells them
// (read_ledger_chunks).
util::Result<BatchRunResult> run_batch(const BatchRunSettings& settings, BatchRunDeps& deps,
                                       const std::vector<BatchRow>& rows, const DoneIndex& done,
                                       const std::map<int, LedgerChunk>& chunks);

// "batch: <name> RUNNING 12/199 done; run the same command again to collect".
std::string batch_pending_line(const BatchChunkView& view);

}  // namespace assetgen::schedule
