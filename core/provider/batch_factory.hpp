#pragma once
// Builds the batch service a `run --tier batch` asks for (the Gemini Batch API; Vertex batch
// prediction next) over the process's shared transport.

#include <memory>
#include <string>

#include "auth/env.hpp"
#include "net/http.hpp"
#include "provider/batch_service.hpp"
#include "provider/factory.hpp"
#include "util/clock.hpp"

namespace assetgen::provider {

// Owns the service and what it uses.
struct BatchServiceStack {
    std::unique_ptr<net::HttpTransport> transport;  // the shared one, with config.abort
    std::unique_ptr<BatchService> service;
    std::string description;  // for logs, never a secret
};

// AUTH_FAILED without an API key, CONFIG_ERROR for an API without a batch service.
util::Result<BatchServiceStack> make_batch_service(const ProviderConfig& config,
                                                   const auth::Env& env,
                                                   net::HttpTransport& transport,
                                                   util::Clock& clock);

}  // namespace assetgen::provider
