#include "auth/chain.hpp"

#include "auth/metadata.hpp"
#include "auth/service_account.hpp"

namespace assetgen::auth {

util::Result<std::unique_ptr<TokenSource>> default_token_source(const Env& env,
                                                                net::HttpTransport& transport,
                                                                util::Clock& clock,
                                                                std::string scope) {
    if (!env.get("STORAGE_EMULATOR_HOST").empty() ||
        !env.get("CLOUD_STORAGE_EMULATOR_ENDPOINT").empty()) {
        return std::unique_ptr<TokenSource>(std::make_unique<NoAuthTokenSource>());
    }
    std::string key_file = env.get("GOOGLE_APPLICATION_CREDENTIALS");
    if (!key_file.empty()) {
        TRY_ASSIGN(ServiceAccountKey key, load_service_account_key(key_file));
        TRY_ASSIGN(auto source,
                   ServiceAccountTokenSource::create(key, transport, clock, std::move(scope)));
        return std::unique_ptr<TokenSource>(std::move(source));
    }
    return std::unique_ptr<TokenSource>(std::make_unique<MetadataTokenSource>(
        transport, clock, metadata_host(env.get("GCE_METADATA_HOST"))));
}

std::string api_key_from_env(const Env& env) {
    std::string key = env.get("GEMINI_API_KEY");
    return key.empty() ? env.get("GOOGLE_API_KEY") : key;
}

}  // namespace assetgen::auth
