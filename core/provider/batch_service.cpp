// The no-duplicate rule of batch creation, shared by every BatchService (batch_service.hpp).
#include "provider/batch_service.hpp"

#include <utility>

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

}  // namespace assetgen::provider
