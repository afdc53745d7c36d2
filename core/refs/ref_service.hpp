#pragma once
// The production wiring of reference fetching for one batch: a libcurl transport, the system
// resolver and a RefFetcher over them, owned together so the CLI stays thin.

#include <memory>

#include "net/curl_transport.hpp"
#include "refs/address_guard.hpp"
#include "refs/ref_fetcher.hpp"
#include "storage/storage.hpp"
#include "util/clock.hpp"

namespace assetgen::refs {

class RefService {
public:
    // storage reads gs:// refs (nullptr: gs:// refs fail with CONFIG_ERROR; local files are
    // read directly); it and clock must outlive the service. Never fails: a broken network
    // shows up as REF_FETCH_FAILED on the rows that need it.
    RefService(RefsOptions options, storage::Storage* storage, util::Clock& clock);
    RefService(const RefService&) = delete;
    RefService& operator=(const RefService&) = delete;

    RefFetcher& fetcher() { return *m_fetcher; }

private:
    net::CurlTransport m_transport;
    SystemResolver m_resolver;
    std::unique_ptr<RefFetcher> m_fetcher;  // last: its workers stop before the transport goes
};

}  // namespace assetgen::refs
