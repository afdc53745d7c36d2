#pragma once
// What a job writes to while it runs: the locks, the ledger (its writer and budget, through the
// ledger backend), the manifest, the events, the provider, the reference fetcher, the
// checkpoints, the results file and the contact sheet's cards, the URL signer. JobSession::open
// fills it in, in the order that nothing is written before the batch is known to be good; the
// Runner is handed its parts through run_deps(); JobSession::finish closes them.
//
// Locks: sign_mutex (the signer: signBlob calls go one at a time, and the signer is made on
// first use), progress_mutex (the last progress, read by the checkpoints). Neither is held while
// calling out, except the signer's own call.

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "auth/iam_signer.hpp"
#include "budget/prices.hpp"
#include "net/http.hpp"
#include "provider/factory.hpp"
#include "refs/ref_service.hpp"
#include "report/events.hpp"
#include "report/html_report_stream.hpp"
#include "report/results_csv.hpp"
#include "schedule/gcs_job_lock.hpp"
#include "schedule/job_files.hpp"
#include "schedule/ledger_backend.hpp"
#include "schedule/periodic.hpp"
#include "schedule/runner.hpp"
#include "util/temp_stream.hpp"

namespace assetgen::schedule {

class JobResources {
public:
    // Declared in the order they are opened; destroyed in reverse (the checkpoint thread first,
    // the job lock last).
    std::optional<JobLock> lock;
    std::unique_ptr<GcsJobLock> bucket_lock;  // a gs:// job: the lock across machines
    std::unique_ptr<LedgerBackend> ledger;    // its writer and budget opened
    std::unique_ptr<DurableManifest> manifest;
    std::unique_ptr<report::EventSink> events;
    provider::ProviderStack provider;
    std::unique_ptr<refs::RefService> refs;
    std::unique_ptr<JobCheckpoints> checkpoints;
    std::unique_ptr<util::TempStream> results_file;  // --results, streamed as rows finish
    std::unique_ptr<report::ResultsCsvWriter> results;
    std::unique_ptr<report::HtmlReportStream> report;  // --report, cards streamed as rows finish

    // --sign-urls, and re-signing references that expire (made on first use).
    std::optional<auth::UrlSigner> signer;
    std::mutex sign_mutex;

    // The checkpoint thread (every checkpoint_every on the session's clock).
    std::unique_ptr<Periodic> checkpointer;

    // What the Runner runs with: these resources plus the caller's clock, storage, prices and
    // stop flag. still_held is set when there is a bucket lock; the caller sets sign_url and
    // warn.
    RunDeps run_deps(util::Clock& clock, storage::Storage& storage,
                     const budget::PriceTable& prices, const std::atomic<int>& stop);

    // A finished row into the results file and the contact sheet's cards (when they are on).
    void record_row(const RowResult& row);

    // The run's last progress, for the checkpoints.
    void set_progress(const Progress& progress);
    Progress progress() const;

    // An event to --events (nothing without).
    void emit(const std::string& event, const nlohmann::json& fields);

private:
    mutable std::mutex m_progress_mutex;
    Progress m_progress;
};

}  // namespace assetgen::schedule
