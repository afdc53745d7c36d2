// How this works: the service is a VertexBatchClient wrapped with what it refers to (the token
// source, the staging GcsStorage), so the caller holds one object; every call forwards.

#include "provider/vertex_batch_factory.hpp"

#include <utility>

#include "auth/chain.hpp"
#include "auth/service_account.hpp"
#include "provider/batch_factory.hpp"
#include "provider/vertex_batch.hpp"
#include "storage/gcs_storage.hpp"
#include "storage/gcs_url.hpp"
#include "util/text.hpp"

namespace assetgen::provider {
namespace {

using util::Code;
using util::Status;

class OwningVertexBatch final : public BatchService {
public:
    OwningVertexBatch(std::unique_ptr<auth::TokenSource> tokens,
                      std::unique_ptr<storage::Storage> staging, const VertexBatchOptions& options,
                      net::HttpTransport& transport, util::Clock& clock)
        : m_tokens(std::move(tokens)),
          m_staging(std::move(staging)),
          m_client(options, transport, clock, *m_tokens, *m_staging) {}

    std::string request_line(std::string_view key, const ImageRequest& request) const override {
        return m_client.request_line(key, request);
    }
    util::Result<std::string> stage_input(const std::string& path,
                                          const std::string& display_name) override {
        return m_client.stage_input(path, display_name);
    }
    util::Result<BatchInfo> create_or_find(const std::string& model,
                                           const std::string& display_name,
                                           const std::string& input) override {
        return m_client.create_or_find(model, display_name, input);
    }
    util::Result<std::optional<BatchInfo>> find(const std::string& display_name) override {
        return m_client.find(display_name);
    }
    util::Result<BatchInfo> get(const std::string& name) override { return m_client.get(name); }
    Status cancel(const std::string& name) override { return m_client.cancel(name); }
    util::Result<DownloadStats> download_results(
        const BatchInfo& info, const std::function<Status(BatchResult&&)>& on_result) override {
        return m_client.download_results(info, on_result);
    }
    Status discard_input(const std::string& input) override {
        return m_client.discard_input(input);
    }

private:
    std::unique_ptr<auth::TokenSource> m_tokens;
    std::unique_ptr<storage::Storage> m_staging;
    VertexBatchClient m_client;
};

Status staging_error(std::string_view value, const std::string& why) {
    return Status(Code::usage, "--batch-staging: " + why + " \"" + std::string(value) +
                                   "\"; give --batch-staging gs://bucket/prefix (Vertex batch "
                                   "prediction reads its input from Cloud Storage)");
}

}  // namespace

util::Result<std::string> resolve_vertex_batch_staging(std::string_view flag,
                                                       std::string_view out) {
    if (!flag.empty()) {
        if (!storage::is_gcs(flag)) {
            return staging_error(flag, "not a gs:// location");
        }
        auto prefix = storage::parse_gcs_prefix(flag);
        if (!prefix.ok()) {
            return staging_error(flag, prefix.status().message() + ":");
        }
        std::string staging(flag);
        while (staging.back() == '/') {
            staging.pop_back();
        }
        return staging;
    }
    if (!storage::is_gcs(out)) {
        return staging_error(out,
                             "needed with --api vertex --tier batch when --out is not gs://;"
                             " --out is");
    }
    auto prefix = storage::parse_gcs_prefix(out);
    if (!prefix.ok()) {
        return staging_error(out, "--out is not a gs:// prefix:");
    }
    std::string object = prefix->object;
    while (!object.empty() && object.back() == '/') {
        object.pop_back();
    }
    return "gs://" + prefix->bucket + "/" +
           (object.empty() ? std::string("assetgen-batch-staging") : object + ".batch-staging");
}

util::Result<std::unique_ptr<BatchService>> make_vertex_batch_service(
    const ProviderConfig& config, const std::string& staging, const auth::Env& env,
    net::HttpTransport& transport, util::Clock& clock, const storage::GcsClientOptions& gcs) {
    VertexBatchOptions o;
    TRY_ASSIGN(o.project, vertex_project(config, env));
    o.location = config.location;
    o.api_base = config.api_base;
    o.staging = staging;
    TRY_ASSIGN(std::unique_ptr<auth::TokenSource> tokens,
               auth::default_token_source(env, transport, clock,
                                          std::string(auth::k_cloud_platform_scope)));
    storage::StorageContext context{&transport, tokens.get(), &clock, gcs};
    TRY_ASSIGN(std::unique_ptr<storage::Storage> store,
               storage::make_storage_for(staging, context));
    return std::unique_ptr<BatchService>(std::make_unique<OwningVertexBatch>(
        std::move(tokens), std::move(store), o, transport, clock));
}

util::Result<BatchServiceStack> make_vertex_batch_stack(const ProviderConfig& config,
                                                        const auth::Env& env,
                                                        net::HttpTransport& transport,
                                                        util::Clock& clock,
                                                        const storage::GcsClientOptions& gcs) {
    if (config.batch_staging.empty()) {
        return util::error(Code::config,
                           "--tier batch --api vertex: no staging prefix; give --batch-staging "
                           "gs://bucket/prefix");
    }
    BatchServiceStack stack;
    stack.transport = std::make_unique<net::AbortableTransport>(transport, config.abort);
    TRY_ASSIGN(const std::string project, vertex_project(config, env));
    TRY_ASSIGN(stack.service, make_vertex_batch_service(config, config.batch_staging, env,
                                                        *stack.transport, clock, gcs));
    stack.description =
        "Vertex AI batch prediction in projects/" + project + "/locations/" + config.location +
        " (" + (config.api_base.empty() ? std::string("Google's endpoint") : config.api_base) +
        "), staging " + config.batch_staging;
    return stack;
}

}  // namespace assetgen::provider
