#include "refs/ref_service.hpp"

namespace assetgen::refs {

RefService::RefService(RefsOptions options, storage::Storage* storage, util::Clock& clock)
    : m_transport(net::CurlTransportOptions{}),
      m_fetcher(std::make_unique<RefFetcher>(std::move(options), m_transport, storage, clock,
                                             m_resolver)) {}

}  // namespace assetgen::refs
