#pragma once
// What `run --api vertex --tier batch` needs to build its BatchService: where the staging
// prefix is (--batch-staging, or beside a gs:// --out), and a VertexBatchClient that owns its
// token source and staging store. The batch engine's factory (make_batch_service) calls this
// for --api vertex.

#include <memory>
#include <string>
#include <string_view>

#include "auth/env.hpp"
#include "net/http.hpp"
#include "provider/batch_service.hpp"
#include "provider/factory.hpp"
#include "storage/gcs_client.hpp"
#include "util/clock.hpp"
#include "util/status.hpp"

namespace assetgen::provider {

// The staging prefix: --batch-staging when given (it must be gs://bucket[/prefix]); else,
// when --out is gs://, "<out>.batch-staging" beside it ("gs://bucket/assetgen-batch-staging"
// for a bucket root); else USAGE_ERROR naming the flag (Vertex reads its input from Cloud
// Storage only).
util::Result<std::string> resolve_vertex_batch_staging(std::string_view flag, std::string_view out);

// A VertexBatchClient for config (project from --project, GOOGLE_CLOUD_PROJECT or the key
// file's; location; api_base) staging in `staging` (resolve_vertex_batch_staging), with the
// credential chain's token source (cloud-platform scope: Vertex and Cloud Storage) and a
// GcsStorage on `gcs` (the endpoint the Context resolved). CONFIG_ERROR without a project;
// the chain's errors. transport and clock must outlive the service.
util::Result<std::unique_ptr<BatchService>> make_vertex_batch_service(
    const ProviderConfig& config, const std::string& staging, const auth::Env& env,
    net::HttpTransport& transport, util::Clock& clock, const storage::GcsClientOptions& gcs);

}  // namespace assetgen::provider
