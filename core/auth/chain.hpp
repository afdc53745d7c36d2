#pragma once
// The credential chain of DESIGN §8, shared by Cloud Storage and Vertex AI: a storage
// emulator (no auth), else GOOGLE_APPLICATION_CREDENTIALS, else the metadata server.

#include <memory>
#include <string>

#include "auth/env.hpp"
#include "auth/token_source.hpp"
#include "net/http.hpp"
#include "util/clock.hpp"
#include "util/status.hpp"

namespace assetgen::auth {

// For emulators: token() is "" (callers send no Authorization header).
class NoAuthTokenSource final : public TokenSource {
public:
    // Always "".
    util::Result<std::string> token() override { return std::string(); }
    // "no authentication (storage emulator)"
    std::string describe() const override { return "no authentication (storage emulator)"; }
};

// STORAGE_EMULATOR_HOST or CLOUD_STORAGE_EMULATOR_ENDPOINT set → NoAuthTokenSource; else
// GOOGLE_APPLICATION_CREDENTIALS → ServiceAccountTokenSource for that key file; else a
// MetadataTokenSource at GCE_METADATA_HOST or metadata.google.internal. Nothing is fetched
// here. CONFIG_ERROR when the key file cannot be read or used. transport and clock must
// outlive the source.
util::Result<std::unique_ptr<TokenSource>> default_token_source(const Env& env,
                                                                net::HttpTransport& transport,
                                                                util::Clock& clock,
                                                                std::string scope);

// The Gemini API key: GEMINI_API_KEY, else GOOGLE_API_KEY; "" when neither is set.
std::string api_key_from_env(const Env& env);

}  // namespace assetgen::auth
