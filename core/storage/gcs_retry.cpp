#include "storage/gcs_retry.hpp"

#include <algorithm>

#include "util/text.hpp"

namespace assetgen::storage {
namespace {

// splitmix64: a stable mix for jitter, reproducible from the loop's seed.
std::uint64_t mix(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

}  // namespace

milliseconds GcsBackoffPolicy::delay(int attempt, std::uint64_t random,
                                     std::optional<milliseconds> hint) const {
    int shift = std::clamp(attempt - 1, 0, 30);
    std::int64_t ceiling = base.count() << shift;
    if (ceiling < 0 || ceiling > cap.count()) {
        ceiling = cap.count();
    }
    milliseconds jitter(
        ceiling > 0 ? static_cast<std::int64_t>(random % static_cast<std::uint64_t>(ceiling + 1))
                    : 0);
    if (hint && *hint > jitter) {
        return *hint;
    }
    return jitter;
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
    : m_options(options), m_clock(clock), m_counter(seed), m_log(std::move(log)) {}

std::optional<milliseconds> GcsRetryLoop::next_delay(const util::Status& status, int n,
                                                     bool idempotent, bool sent,
                                                     util::SteadyTime start,
                                                     std::string_view what) {
    const std::string head = "gcs: " + std::string(what) + ": attempt " + std::to_string(n);
    if (!m_options.retry.should_retry(status, n)) {
        if (util::is_transient(status.code())) {
            log(head + " failed (" + status.to_string() + "); giving up after " +
                std::to_string(n) + " attempts");
        }
        return std::nullopt;
    }
    // A request that never left may always be repeated; one that did, only when idempotent.
    if (sent && !idempotent) {
        log(head + " failed (" + status.to_string() +
            "); not retried: a write without a generation precondition is not idempotent");
        return std::nullopt;
    }
    milliseconds wait =
        m_options.backoff.delay(n, mix(m_counter.fetch_add(1)), status.retry_after());
    auto elapsed = std::chrono::duration_cast<milliseconds>(m_clock.steady() - start);
    if (elapsed + wait > m_options.retry.max_elapsed) {
        log(head + " failed (" + status.to_string() + "); giving up: retry time limit " +
            util::format_duration(m_options.retry.max_elapsed) + " reached");
        return std::nullopt;
    }
    log(head + " failed (" + status.to_string() + "); retrying in " + util::format_duration(wait));
    return wait;
}

util::Status GcsRetryLoop::annotate(const util::Status& status, int attempts) {
    util::Status out(status.code(),
                     status.message() + " (after " + std::to_string(attempts) + " attempts)");
    out.with_http_status(status.http_status());
    if (status.retry_after()) {
        out.with_retry_after(*status.retry_after());
    }
    return out;
}

void GcsRetryLoop::log(const std::string& line) const {
    if (m_log) {
        m_log(util::redact(line));
    }
}

}  // namespace assetgen::storage
