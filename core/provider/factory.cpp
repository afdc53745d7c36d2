#include "provider/factory.hpp"

#include "auth/chain.hpp"
#include "auth/service_account.hpp"
#include "provider/dry_run.hpp"
#include "provider/gemini_provider.hpp"

namespace assetgen::provider {

util::Result<std::string> vertex_project(const ProviderConfig& config, const auth::Env& env) {
    std::string project = config.project;
    if (project.empty()) {
        project = env.get("GOOGLE_CLOUD_PROJECT");
    }
    if (project.empty()) {
        const std::string key_file = env.get("GOOGLE_APPLICATION_CREDENTIALS");
        if (!key_file.empty()) {
            auto key = auth::load_service_account_key(key_file);
            if (key.ok()) {
                project = key->project_id;
            }
        }
    }
    if (project.empty()) {
        return util::error(
            util::Code::config,
            "--api vertex needs a project: give --project or set GOOGLE_CLOUD_PROJECT");
    }
    return project;
}

util::Result<ProviderStack> make_provider(const ProviderConfig& config, const auth::Env& env,
                                          net::HttpTransport& transport, util::Clock& clock) {
    ProviderStack stack;
    if (!config.live) {
        TRY_ASSIGN(auto sim, parse_simulate(config.simulate));
        stack.provider = std::make_unique<DryRunProvider>(sim, clock);
        stack.description = "dry run (synthetic images, no network, no money)";
        return stack;
    }
    stack.transport = std::make_unique<net::AbortableTransport>(transport, config.abort);
    if (config.api == "gemini") {
        GeminiOptions o;
        o.api_key = auth::api_key_from_env(env);
        if (o.api_key.empty()) {
            return util::error(
                util::Code::unauthenticated,
                "--mode live --api gemini needs an API key: set GEMINI_API_KEY (or "
                "GOOGLE_API_KEY), or use --api vertex with Google Cloud credentials");
        }
        if (!config.api_base.empty()) {
            o.api_base = config.api_base;
        }
        o.timeout = config.timeout;
        o.wire.service_tier = config.service_tier;
        stack.description = "Gemini API at " + o.api_base;
        stack.provider = std::make_unique<GeminiProvider>(o, *stack.transport, clock);
        return stack;
    }
    if (config.api == "vertex") {
        if (!config.service_tier.empty()) {
            return util::error(util::Code::config,
                               "--tier " + config.service_tier +
                                   " is for the Gemini API (--api gemini); Vertex AI "
                                   "runs at standard");
        }
        VertexOptions o;
        TRY_ASSIGN(o.project, vertex_project(config, env));
        o.location = config.location;
        o.api_base = config.api_base;
        o.timeout = config.timeout;
        TRY_ASSIGN(stack.tokens,
                   auth::default_token_source(env, *stack.transport, clock,
                                              std::string(auth::k_cloud_platform_scope)));
        stack.description = "Vertex AI (project " + o.project + ", " + o.location + ") as " +
                            stack.tokens->describe();
        stack.provider =
            std::make_unique<VertexProvider>(o, *stack.transport, *stack.tokens, clock);
        return stack;
    }
    return util::error(util::Code::config, "--api: \"" + config.api + "\" is not gemini or vertex");
}

}  // namespace assetgen::provider
