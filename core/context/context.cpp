#include "context/context.hpp"

#include "storage/gcs_wire.hpp"

namespace assetgen::context {

Places resolve_places(const auth::Env& env) {
    Places p;
    p.gcs = storage::resolve_gcs_endpoint(env);
    p.emulator_host = env.get("STORAGE_EMULATOR_HOST");
    if (p.emulator_host.empty()) {
        p.emulator_host = env.get("CLOUD_STORAGE_EMULATOR_ENDPOINT");
    }
    if (const std::string tmp = env.get("TMPDIR"); !tmp.empty()) {
        p.temp_dir = tmp;
    }
    p.spool_dir = env.get("ASSETGEN_SPOOL_DIR");
    auto get = [&env](const std::string& name) { return env.get(name); };
    p.state_dirs = util::UserDirEnv::from(util::UserDirKind::state, get);
    p.cache_dirs = util::UserDirEnv::from(util::UserDirKind::cache, get);
    return p;
}

ProviderFactory real_provider_factory(const auth::Env& env, net::HttpTransport& transport,
                                      util::Clock& clock) {
    return [&env, &transport, &clock](const provider::ProviderConfig& config) {
        return provider::make_provider(config, env, transport, clock);
    };
}

SignerFactory real_signer_factory(const auth::Env& env, net::HttpTransport& transport,
                                  util::Clock& clock) {
    return [&env, &transport, &clock] { return auth::make_url_signer(env, transport, clock); };
}

}  // namespace assetgen::context
