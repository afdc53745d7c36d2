#pragma once
// The metadata server of Compute Engine, Cloud Run and Cloud Build: access tokens of the
// attached service account, its email and the project id. GCE_METADATA_HOST overrides the
// address, as Google's libraries allow; callers pass that value in.

#include <string>
#include <string_view>

#include "auth/token_cache.hpp"
#include "auth/token_source.hpp"
#include "net/http.hpp"
#include "util/clock.hpp"
#include "util/status.hpp"

namespace assetgen::auth {

inline constexpr std::string_view k_default_metadata_host = "metadata.google.internal";

// override_host (GCE_METADATA_HOST's value, "host[:port]") when not empty, else the default.
std::string metadata_host(std::string_view override_host);

// Tokens of the default service account from http://<host>/computeMetadata/v1/...; the
// account's scopes are those the platform granted. Thread-safe.
class MetadataTokenSource final : public TokenSource {
public:
    // host is "host[:port]" (see metadata_host). transport and clock must outlive the source.
    MetadataTokenSource(net::HttpTransport& transport, util::Clock& clock, std::string host);

    // See TokenSource. AUTH_FAILED on 400/401/404 (e.g. no service account attached),
    // PERMISSION_DENIED on 403, transient codes when the server is unreachable or answers 5xx.
    util::Result<std::string> token() override;
    // "metadata server <host> (default service account)"
    std::string describe() const override;

private:
    util::Result<AccessToken> fetch();

    net::HttpTransport& m_transport;
    std::string m_host;
    TokenCache m_cache;
};

// The default service account's email (.../service-accounts/default/email). Codes as token().
util::Result<std::string> metadata_service_account_email(net::HttpTransport& transport,
                                                         const std::string& host);
// The project id (.../project/project-id). Codes as token().
util::Result<std::string> metadata_project_id(net::HttpTransport& transport,
                                              const std::string& host);

}  // namespace assetgen::auth
