#pragma once
// Errors as values: a Status (a stable code and a message) and Result<T> (a value or a
// Status). Exceptions never cross core's public API; the CLI maps codes to exit codes.

#include <cassert>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace assetgen::util {

// The stable codes users see in ledgers, results and events. One enum, one table of names
// (code_name); README.md lists them. Transient codes are retried by the schedule module.
enum class Code {
    ok,
    // permanent
    invalid_input,         // INVALID_INPUT: the batch or a flag is wrong
    not_found,             // NOT_FOUND: a file, object or model does not exist
    permission_denied,     // PERMISSION_DENIED: credentials lack a right (HTTP 403)
    unauthenticated,       // AUTH_FAILED: no or bad credentials (HTTP 401, bad API key)
    config,                // CONFIG_ERROR: settings contradict each other or are missing
    usage,                 // USAGE_ERROR: a flag's value is wrong (exit 2); never in a ledger
    budget_exceeded,       // BUDGET_EXCEEDED: the daily budget has no room
    blocked,               // BLOCKED: the model refused for safety reasons
    ref_fetch_failed,      // REF_FETCH_FAILED: a reference image could not be fetched
    model_error,           // MODEL_ERROR: the model answered 400 or without an image
    storage_io,            // STORAGE_IO: a local or GCS read/write failed for good
    upstream_unavailable,  // UPSTREAM_UNAVAILABLE: the circuit stayed open too long
    cancelled,             // CANCELLED: interrupted before it started
    internal,              // INTERNAL: a bug; please report it
    // a 429 no retry cures soon: the run sends nothing new (exit 69)
    quota_daily,  // QUOTA_DAILY: a per-day quota of the model API (resets at midnight Pacific)
    spend_cap,    // SPEND_CAP: a spend-based rate limit (dollars per rolling 10 minutes)
    billing_cap,  // BILLING_CAP: the billing account's spending cap or prepaid credit is used up
    // transient (retried)
    rate_limited,       // MODEL_RATE_LIMIT: HTTP 429
    unavailable,        // MODEL_UNAVAILABLE: HTTP 5xx, connection refused or reset
    deadline_exceeded,  // TIMEOUT: HTTP 408 or the request timed out
    bad_response,       // BAD_RESPONSE: a truncated or malformed answer
};

// The stable upper-case name of a code, e.g. "BUDGET_EXCEEDED".
std::string_view code_name(Code code);
// Parses a name written by code_name; std::nullopt for an unknown name.
std::optional<Code> code_from_name(std::string_view name);
// True for the codes a retry may cure.
bool is_transient(Code code);

// Token counts from a model answer's usageMetadata (what Google bills). provider::Usage is
// this type; it lives here so that a failed answer's Status can carry what it was billed.
struct TokenUsage {
    std::int64_t prompt_tokens = 0;    // promptTokenCount (text + input images)
    std::int64_t output_tokens = 0;    // candidatesTokenCount (image and text output)
    std::int64_t thoughts_tokens = 0;  // thoughtsTokenCount (billed as output)
    // The IMAGE entry of candidatesTokensDetails; -1 when the answer has no breakdown.
    std::int64_t output_image_tokens = -1;
};

// [[nodiscard]]: a Status that nobody reads is a failure nobody hears of. Where dropping one is
// truly right, say so with ignore_error() and a comment saying why.
class [[nodiscard]] Status {
public:
    Status() = default;
    Status(Code code, std::string message) : m_code(code), m_message(std::move(message)) {}

    bool ok() const { return m_code == Code::ok; }
    Code code() const { return m_code; }
    const std::string& message() const { return m_message; }

    // A server's hint (RetryInfo.retryDelay or Retry-After) of how long to wait before retrying.
    std::optional<std::chrono::milliseconds> retry_after() const { return m_retry_after; }
    Status& with_retry_after(std::chrono::milliseconds d) {
        m_retry_after = d;
        return *this;
    }
    // The HTTP status behind the error, 0 when there was none.
    int http_status() const { return m_http_status; }
    Status& with_http_status(int s) {
        m_http_status = s;
        return *this;
    }
    // What the failed answer was billed (a 200 answer without an image: blocked for safety,
    // text only): its usageMetadata. Unset when no answer with usage came back.
    const std::optional<TokenUsage>& usage() const { return m_usage; }
    Status& with_usage(const TokenUsage& u) {
        m_usage = u;
        return *this;
    }
    // "MODEL_RATE_LIMIT: <message>"
    std::string to_string() const;
    // Drops this Status on purpose (best-effort clean-up, a failure already reported another
    // way). The call site carries a comment saying why ignoring it is right.
    void ignore_error() const {}

private:
    Code m_code = Code::ok;
    std::string m_message;
    std::optional<std::chrono::milliseconds> m_retry_after;
    int m_http_status = 0;
    std::optional<TokenUsage> m_usage;
};

inline Status ok_status() {
    return Status();
}
inline Status error(Code code, std::string message) {
    return Status(code, std::move(message));
}

// The error of a system call about `what` ("<path>: cannot open") that failed with errno err:
// PERMISSION_DENIED "<what>: permission denied" for EACCES and EPERM (exit 77, as the README
// says for permission), else STORAGE_IO "<what>: <strerror(err)>".
Status io_error(const std::string& what, int err);

// A value or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : m_v(std::move(value)) {}  // NOLINT: implicit by design
    Result(Status status) : m_v(std::move(status)) { assert(!std::get<Status>(m_v).ok()); }

    bool ok() const { return m_v.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & { return std::get<T>(m_v); }
    const T& value() const& { return std::get<T>(m_v); }
    T&& value() && { return std::get<T>(std::move(m_v)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const Status& status() const& {
        static const Status k_ok;
        return ok() ? k_ok : std::get<Status>(m_v);
    }
    // On a temporary Result, a copy: `TRY(f().status())` must not keep a reference into a
    // Result that dies at the end of the full expression.
    Status status() && { return ok() ? Status() : std::get<Status>(std::move(m_v)); }
    // Drops this Result on purpose, as Status::ignore_error (with a comment saying why).
    void ignore_error() const {}

private:
    std::variant<T, Status> m_v;
};

}  // namespace assetgen::util

#define ASSETGEN_CONCAT_INNER(a, b) a##b
#define ASSETGEN_CONCAT(a, b) ASSETGEN_CONCAT_INNER(a, b)

// TRY(expr): return the Status of a failed Status or Result expression from this function.
#define TRY(expr)                                                    \
    do {                                                             \
        auto&& try_status_ = (expr);                                 \
        if (!try_status_.ok()) {                                     \
            return ::assetgen::util::detail::status_of(try_status_); \
        }                                                            \
    } while (false)

// TRY_ASSIGN(lhs, expr): evaluate a Result, return its Status on failure, else move its value
// into lhs (which may be a declaration, e.g. `auto rows`).
#define TRY_ASSIGN(lhs, expr) TRY_ASSIGN_IMPL(ASSETGEN_CONCAT(try_result_, __LINE__), lhs, expr)
#define TRY_ASSIGN_IMPL(tmp, lhs, expr) \
    auto tmp = (expr);                  \
    if (!tmp.ok()) {                    \
        return tmp.status();            \
    }                                   \
    lhs = std::move(tmp).value()

namespace assetgen::util::detail {
inline const Status& status_of(const Status& s) {
    return s;
}
template <typename T>
const Status& status_of(const Result<T>& r) {
    return r.status();
}
}  // namespace assetgen::util::detail
