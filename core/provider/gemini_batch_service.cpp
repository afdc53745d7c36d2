// GeminiBatchClient as a BatchService (the batch tier's engine drives it), and the factory of
// the batch service a run asks for.
#include "provider/batch_factory.hpp"
#include "provider/gemini_batch.hpp"

#include "auth/chain.hpp"

namespace assetgen::provider {

std::string GeminiBatchClient::request_line(std::string_view key,
                                            const ImageRequest& request) const {
    return build_batch_line(key, request);
}

util::Result<std::string> GeminiBatchClient::stage_input(const std::string& path,
                                                         const std::string& display_name) {
    TRY_ASSIGN(const FileInfo file, upload_file(path, display_name));
    return file.name;
}

util::Result<DownloadStats> GeminiBatchClient::download_results(
    const BatchInfo& info, const std::function<util::Status(BatchResult&&)>& on_result) {
    if (info.responses_file.empty()) {
        return util::error(util::Code::bad_response,
                           "batch " + info.name + " (" + info.display_name + "): state " +
                               std::string(batch_state_name(info.state)) +
                               " with no responses file (a batch made from a file answers with "
                               "one)");
    }
    return download_results(info.responses_file, on_result);
}

util::Status GeminiBatchClient::discard_input(const std::string& input) {
    return delete_file(input);
}

util::Result<BatchServiceStack> make_batch_service(const ProviderConfig& config,
                                                   const auth::Env& env,
                                                   net::HttpTransport& transport,
                                                   util::Clock& clock,
                                                   const storage::GcsClientOptions& gcs) {
    if (config.api == "vertex") {
        return make_vertex_batch_stack(config, env, transport, clock, gcs);
    }
    if (config.api != "gemini") {
        return util::error(util::Code::config,
                           "--tier batch: --api \"" + config.api +
                               "\" has no batch service; use --api gemini or vertex");
    }
    BatchServiceStack stack;
    stack.transport = std::make_unique<net::AbortableTransport>(transport, config.abort);
    GeminiBatchOptions o;
    o.api_key = auth::api_key_from_env(env);
    if (o.api_key.empty()) {
        return util::error(util::Code::unauthenticated,
                           "--tier batch --api gemini needs an API key: set GEMINI_API_KEY (or "
                           "GOOGLE_API_KEY)");
    }
    if (!config.api_base.empty()) {
        o.api_base = config.api_base;
    }
    stack.description = "Gemini Batch API at " + o.api_base;
    stack.service = std::make_unique<GeminiBatchClient>(o, *stack.transport, clock);
    return stack;
}

}  // namespace assetgen::provider
