#pragma once
// A live run's first step: does each model it will call exist? One lookup a model (the Gemini
// API's models.get, Vertex AI's publisher model) before any request that costs money, so a
// retired or misspelt model fails at once instead of at its first paid request.

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "provider/image_provider.hpp"
#include "schedule/policies.hpp"
#include "util/clock.hpp"

namespace assetgen::schedule {

struct ModelCheckOptions {
    RetryPolicy retry;
    BackoffPolicy backoff;
    std::uint64_t jitter_seed = 0;
    // A server hint longer than this is not waited for: the check fails with its code.
    std::chrono::milliseconds max_retry_delay{600'000};
    // Told about each retry ("models.get: MODEL_UNAVAILABLE ...; again in 1.2s"). May be empty.
    std::function<void(const std::string&)> log;
};

// Asks `provider` about every model in turn. ok when all exist. CONFIG_ERROR (exit 78) for a
// model the API does not know, naming the image models it lists; transient failures (429,
// 5xx, timeouts) are retried as the run's requests are (same attempts and backoff, the
// server's hint when longer, waits on `clock`); AUTH_FAILED and PERMISSION_DENIED are not.
util::Status check_models(provider::ImageProvider& provider, const std::vector<std::string>& models,
                          const ModelCheckOptions& options, util::Clock& clock);

}  // namespace assetgen::schedule
