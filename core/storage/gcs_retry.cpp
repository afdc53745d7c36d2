#include "storage/gcs_retry.hpp"

#include "util/text.hpp"

namespace assetgen::storage {

util::RetryPolicy GcsRetryOptions::policy() const {
    if (custom) {
        return *custom;
    }
    util::RetryPolicy p =
        util::exponential_full_jitter(retry.max_attempts, backoff.base, backoff.cap);
    p.deadline = retry.max_elapsed;
    return p;
}

std::string_view gcs_op_name(GcsOp op) {
    switch (op) {
        case GcsOp::objects_get:
            return "storage.objects.get";
        case GcsOp::objects_list:
            return "storage.objects.list";
        case GcsOp::objects_insert:
            return "storage.objects.insert";
        case GcsOp::objects_delete:
            return "storage.objects.delete";
        case GcsOp::objects_compose:
            return "storage.objects.compose";
    }
    return "storage.objects.unknown";
}

bool is_idempotent(GcsOp op, bool generation_pinned) {
    switch (op) {
        case GcsOp::objects_get:
        case GcsOp::objects_list:
            return true;
        case GcsOp::objects_insert:
        case GcsOp::objects_delete:
        case GcsOp::objects_compose:
            return generation_pinned;
    }
    return false;
}

GcsRetryLoop::GcsRetryLoop(GcsRetryOptions options, util::Clock& clock, std::uint64_t seed,
                           GcsLog log)
    : m_options(options),
      m_policy(options.policy()),
      m_clock(clock),
      m_random(seed),
      m_log(std::move(log)) {}

util::RetryHooks GcsRetryLoop::hooks(std::string_view what) {
    util::RetryHooks h;
    h.random = [this] { return m_random(); };
    h.on_retry = [this, what](const util::RetryNotice& n) {
        log("gcs: " + std::string(what) + ": attempt " + std::to_string(n.attempt) + " failed (" +
            n.status->to_string() + "); retrying in " + util::format_duration(n.delay));
        if (m_options.on_retry) {
            m_options.on_retry(n);
        }
    };
    return h;
}

util::Status GcsRetryLoop::finish(std::string_view what, const util::Status& status, int attempts,
                                  util::StopReason stop) const {
    const std::string head = "gcs: " + std::string(what) + ": attempt " + std::to_string(attempts) +
                             " failed (" + status.to_string() + ")";
    switch (stop) {
        case util::StopReason::attempts_exhausted:
            log(head + "; giving up after " + std::to_string(attempts) + " attempts");
            break;
        case util::StopReason::not_idempotent:
            log(head +
                "; not retried: a write without a generation precondition is not idempotent");
            break;
        case util::StopReason::deadline:
            log(head + "; giving up: retry time limit " +
                util::format_duration(m_policy.deadline.value_or(util::Millis{0})) + " reached");
            break;
        default:
            break;
    }
    return util::with_attempts(status, attempts);
}

void GcsRetryLoop::log(const std::string& line) const {
    if (m_log) {
        m_log(util::redact(line));
    }
}

}  // namespace assetgen::storage
