#pragma once
// Service-account key files and the OAuth2 JWT bearer grant: a JWT signed RS256 with the key
// is exchanged at the key's token_uri for an access token, which is cached and refreshed.

#include <memory>
#include <string>
#include <string_view>

#include "auth/token_cache.hpp"
#include "auth/token_source.hpp"
#include "net/http.hpp"
#include "signing/rsa_signer.hpp"
#include "util/clock.hpp"
#include "util/status.hpp"

namespace assetgen::auth {

inline constexpr std::string_view k_default_token_uri = "https://oauth2.googleapis.com/token";

// The fields of a service-account key file that assetgen uses.
struct ServiceAccountKey {
    std::string client_email;
    std::string private_key;  // PEM; never printed
    std::string private_key_id;
    std::string token_uri;  // k_default_token_uri when the file has none
    std::string project_id;
};

// Parses a key file's JSON; where names it in messages. CONFIG_ERROR when it is not JSON, its
// "type" is not "service_account", or client_email or private_key is missing.
util::Result<ServiceAccountKey> parse_service_account_key(std::string_view json,
                                                          std::string_view where);
// Reads and parses a key file. CONFIG_ERROR when it cannot be read or parsed.
util::Result<ServiceAccountKey> load_service_account_key(const std::string& path);

// Tokens for one service account through the JWT bearer grant. Thread-safe.
class ServiceAccountTokenSource final : public TokenSource {
public:
    // Reads the private key. CONFIG_ERROR when the key is not a usable RSA key. transport and
    // clock must outlive the source; scope is space-separated.
    static util::Result<std::unique_ptr<ServiceAccountTokenSource>> create(
        const ServiceAccountKey& key, net::HttpTransport& transport, util::Clock& clock,
        std::string scope);

    // See TokenSource. AUTH_FAILED when the endpoint refuses the grant (400/401, e.g.
    // invalid_grant), PERMISSION_DENIED on 403, transient codes for 408/429/5xx and transport
    // failures, BAD_RESPONSE for an answer without an access token.
    util::Result<std::string> token() override;
    // "service account <client_email>"
    std::string describe() const override;
    // The account's key as a Signer (V4 signed URLs without a network round trip).
    signing::Signer& signer() { return *m_signer; }

private:
    ServiceAccountTokenSource(std::unique_ptr<signing::RsaSigner> signer, std::string key_id,
                              std::string token_uri, net::HttpTransport& transport,
                              util::Clock& clock, std::string scope);
    util::Result<AccessToken> fetch();

    std::unique_ptr<signing::RsaSigner> m_signer;
    std::string m_key_id;
    std::string m_token_uri;
    net::HttpTransport& m_transport;
    util::Clock& m_clock;
    std::string m_scope;
    TokenCache m_cache;
};

// Reads {"access_token","expires_in","token_type"} from a token endpoint's or metadata server's
// 200 answer. BAD_RESPONSE (naming where) when it is not JSON or has no access_token;
// expires_in defaults to 3600 s.
util::Result<AccessToken> parse_token_response(std::string_view body, std::string_view where);

// The Status for a non-200 answer of a token endpoint or metadata server: AUTH_FAILED for 400,
// 401 and 404, PERMISSION_DENIED for 403, TIMEOUT for 408, MODEL_RATE_LIMIT for 429,
// MODEL_UNAVAILABLE for 5xx, BAD_RESPONSE otherwise. The message carries the OAuth "error"
// and "error_description" (redacted, shortened), never the body.
util::Status token_error(const net::HttpResponse& response, std::string_view where);

}  // namespace assetgen::auth
