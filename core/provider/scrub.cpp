#include "provider/scrub.hpp"

#include <string>
#include <utility>

#include "util/text.hpp"

namespace assetgen::provider {

util::Status scrub(const util::Status& s, std::string_view secret) {
    std::string message = util::redact(s.message());
    if (!secret.empty()) {
        for (auto at = message.find(secret); at != std::string::npos;
             at = message.find(secret, at)) {
            message.replace(at, secret.size(), "[REDACTED]");
        }
    }
    util::Status out(s.code(), std::move(message));
    out.with_http_status(s.http_status());
    if (s.retry_after()) {
        out.with_retry_after(*s.retry_after());
    }
    if (s.usage()) {
        out.with_usage(*s.usage());
    }
    return out;
}

}  // namespace assetgen::provider
