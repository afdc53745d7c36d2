#include "schedule/model_check.hpp"

#include "util/hash.hpp"
#include "util/text.hpp"

namespace assetgen::schedule {

util::Status check_models(provider::ImageProvider& provider, const std::vector<std::string>& models,
                          const ModelCheckOptions& options, util::Clock& clock) {
    for (const auto& model : models) {
        for (int attempt = 1;; ++attempt) {
            util::Status st = provider.check_model(model);
            if (st.ok()) {
                break;
            }
            if (!options.retry.should_retry(st, attempt) ||
                (st.retry_after() && *st.retry_after() > options.max_retry_delay)) {
                return st;
            }
            const auto delay = options.backoff.delay(
                attempt,
                util::fnv1a64(model) ^ options.jitter_seed ^ static_cast<std::uint64_t>(attempt),
                st.retry_after());
            if (options.log) {
                options.log(st.to_string() + "; asking again in " + util::format_duration(delay));
            }
            clock.sleep_for(delay);
        }
    }
    return util::ok_status();
}

}  // namespace assetgen::schedule
