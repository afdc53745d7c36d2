#pragma once
// Inside JobSession (session.hpp), shared by its files: session.cpp (prepare, execute),
// session_open.cpp (open: everything that writes), session_finish.cpp (finish and the
// checkpoints). Not for use outside core/schedule/session*.cpp. What open() creates is a
// JobResources (job_resources.hpp).

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
#include "schedule/job_resources.hpp"
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
