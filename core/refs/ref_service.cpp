#include "refs/ref_service.hpp"

namespace assetgen::refs {

RefService::RefService(RefsOptions options, storage::Storage* storage,
                       net::HttpTransport& transport, util::Clock& clock)
    : m_fetcher(std::make_unique<RefFetcher>(std::move(options), transport, storage, clock,
                                             m_resolver)) {}

}  // namespace assetgen::refs
