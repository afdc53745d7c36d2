#include "schedule/model_check.hpp"

#include "util/hash.hpp"
#include "util/retry.hpp"
#include "util/text.hpp"

namespace assetgen::schedule {

util::Status check_models(provider::ImageProvider& provider, const std::vector<std::string>& models,
                          const ModelCheckOptions& options, util::Clock& clock) {
    const util::RetryPolicy policy =
        model_retry_policy(options.retry, options.backoff, options.max_retry_delay);
    for (const auto& model : models) {
        util::RetryHooks hooks;
        int draws = 0;
        hooks.random = [&] {
            return util::fnv1a64(model) ^ options.jitter_seed ^ static_cast<std::uint64_t>(++draws);
        };
        hooks.on_retry = [&](const util::RetryNotice& n) {
            if (options.log) {
                options.log(n.status->to_string() + "; asking again in " +
                            util::format_duration(n.delay));
            }
        };
        auto checked = util::retry_loop(
            clock, policy, [&](int) { return provider.check_model(model); }, hooks);
        if (!checked.ok()) {
            return checked.value;
        }
    }
    return util::ok_status();
}

}  // namespace assetgen::schedule
