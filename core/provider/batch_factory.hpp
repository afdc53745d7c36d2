#pragma once
// Builds the batch service a `run --tier batch` asks for (the Gemini Batch API; Vertex batch
// prediction next) over the process's shared transport.

#include <memory>
#include <string>

#include "auth/env.hpp"
#include "net/http.hpp"
#include "provider/batch_service.hpp"
#include "provider/factory.hpp"
#include "storage/gcs_client.hpp"
#include "util/clock.hpp"

namespace assetgen::provider {

// Owns the service and what it uses.
struct BatchServiceStack {
    std::unique_ptr<net::HttpTransport> transport;  // the shared one, with config.abort
    std::unique_ptr<BatchService> service;
    std::string description;  // for logs, never a secret
};

// AUTH_FAILED without an API key, CONFIG_ERROR for an API without a batch service. --api
// vertex: Vertex AI batch prediction staging in config.batch_staging, its Cloud Storage side at
// gcs (the endpoint the Context resolved; make_vertex_batch_stack).
util::Result<BatchServiceStack> make_batch_service(const ProviderConfig& config,
                                                   const auth::Env& env,
                                                   net::HttpTransport& transport,
                                                   util::Clock& clock,
                                                   const storage::GcsClientOptions& gcs = {});

// The Vertex side of make_batch_service (vertex_batch_factory.cpp): CONFIG_ERROR without a
// staging prefix or a project; the credential chain's errors.
util::Result<BatchServiceStack> make_vertex_batch_stack(const ProviderConfig& config,
                                                        const auth::Env& env,
                                                        net::HttpTransport& transport,
                                                        util::Clock& clock,
                                                        const storage::GcsClientOptions& gcs);

}  // namespace assetgen::provider
