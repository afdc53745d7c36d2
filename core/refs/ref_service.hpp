#pragma once
// The production wiring of reference fetching for one batch: the command's shared transport,
// the system resolver and a RefFetcher over them, owned together so the CLI stays thin.

#include <memory>

#include "net/http.hpp"
#include "refs/address_guard.hpp"
#include "refs/ref_fetcher.hpp"
#include "storage/storage.hpp"
#include "util/clock.hpp"

namespace assetgen::refs {

class RefService {
public:
    // storage reads gs:// refs (nullptr: gs:// refs fail with CONFIG_ERROR; local files are
    // read directly); it, transport and clock must outlive the service. Never fails: a broken
    // network shows up as REF_FETCH_FAILED on the rows that need it.
    RefService(RefsOptions options, storage::Storage* storage, net::HttpTransport& transport,
               util::Clock& clock);
    RefService(const RefService&) = delete;
    RefService& operator=(const RefService&) = delete;

    RefFetcher& fetcher() { return *m_fetcher; }

private:
    SystemResolver m_resolver;
    std::unique_ptr<RefFetcher> m_fetcher;  // last: its workers stop before the resolver goes
};

}  // namespace assetgen::refs
