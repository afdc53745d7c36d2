// The no-duplicate rule of batch creation, shared by every BatchService (batch_service.hpp).
#include "provider/batch_service.hpp"

#include <chrono>
#include <utility>

#include "provider/gemini_wire.hpp"
#include "util/text.hpp"

#include "util/status.hpp"

namespace assetgen::provider {

bool create_outcome_unknown(const util::Status& s) {
    return util::is_transient(s.code()) || s.code() == util::Code::cancelled;
}

util::Result<BatchInfo> find_or_create_once(
    const std::function<util::Result<std::optional<BatchInfo>>()>& find,
    const std::function<util::Result<BatchInfo>()>& create, std::string_view what) {
    auto existing = find();
    if (!existing.ok()) {
        return existing.status();  // not knowing whether it exists, nothing is created
    }
    if (existing.value()) {
        return std::move(*existing.value());
    }
    auto created = create();
    if (created.ok() || !create_outcome_unknown(created.status())) {
        return created;
    }
    auto again = find();
    if (again.ok() && again.value()) {
        return std::move(*again.value());
    }
    return util::Status(created.status().code(),
                        created.status().message() + "; " + std::string(what) +
                            " is not in the list (yet): not created again now, the same call "
                            "later looks for it first");
}

util::Status batch_call_error(int http_status, std::string_view body, std::string_view retry_after,
                              std::int64_t now_ms, const std::string& what) {
    const auto now = std::chrono::system_clock::time_point(std::chrono::milliseconds(now_ms));
    util::Status e = parse_gemini_error(http_status, body, retry_after, now);
    std::string message = e.message();
    constexpr std::string_view k_generic = "generateContent";  // parse_gemini_error's wording
    if (util::starts_with(message, k_generic)) {
        message.replace(0, k_generic.size(), what);
    } else {
        message = what + ": " + message;
    }
    util::Status out(e.code(), std::move(message));
    out.with_http_status(e.http_status());
    if (e.retry_after()) {
        out.with_retry_after(*e.retry_after());
    }
    return out;
}

}  // namespace assetgen::provider
