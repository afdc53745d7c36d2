#pragma once
// Inside JobSession (session.hpp), shared by its files: session.cpp (prepare, execute),
// session_open.cpp (open: everything that writes), session_finish.cpp (finish and the
// checkpoints) and session_budget.cpp. Not for use outside core/schedule/session*.cpp.

#include <condition_variable>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "auth/iam_signer.hpp"
#include "context/context.hpp"
#include "ledger/day_totals.hpp"
#include "ledger/gcs_ledger_writer.hpp"
#include "report/html_report_stream.hpp"
#include "report/metrics.hpp"
#include "schedule/default_folders.hpp"
#include "schedule/gcs_job_lock.hpp"
#include "schedule/periodic.hpp"
#include "schedule/session.hpp"
#include "signing/url_refresh.hpp"
#include "storage/gcs_url.hpp"
#include "storage/gcs_wire.hpp"
#include "util/atomic_file.hpp"
#include "util/fd_limit.hpp"
#include "util/hash.hpp"
#include "util/temp_stream.hpp"
#include "util/text.hpp"

namespace assetgen::schedule {

struct JobSession::Open {
    std::optional<JobLock> lock;
    std::unique_ptr<GcsJobLock> bucket_lock;  // a gs:// job: the lock across machines
    std::unique_ptr<ledger::LedgerWriter> ledger;
    std::unique_ptr<DurableManifest> manifest;
    std::unique_ptr<report::EventSink> events;
    provider::ProviderStack provider;
    std::unique_ptr<refs::RefService> refs;
    std::unique_ptr<budget::Budget> budget;
    std::unique_ptr<JobCheckpoints> checkpoints;
    std::unique_ptr<util::TempStream> results_file;  // --results, streamed as rows finish
    std::unique_ptr<report::ResultsCsvWriter> results;
    std::unique_ptr<report::HtmlReportStream> report;  // --report, cards streamed as rows finish

    // --sign-urls
    std::optional<auth::UrlSigner> signer;
    std::mutex sign_mutex;

    // Progress for the state snapshots.
    std::mutex progress_mutex;
    Progress progress;
    std::string phase = "running";

    // The checkpoint thread (every checkpoint_every on the session's clock).
    std::unique_ptr<Periodic> checkpointer;
};

}  // namespace assetgen::schedule
