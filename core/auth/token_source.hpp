#pragma once
// OAuth access tokens for Vertex AI and Cloud Storage. Implementations: a service-account key
// file (JWT bearer grant signed RS256), the metadata server, and "none" for emulators.

#include <memory>
#include <string>
#include <string_view>

#include "util/status.hpp"

namespace assetgen::auth {

// OAuth scope for Vertex AI and everything else in Google Cloud.
inline constexpr std::string_view k_cloud_platform_scope =
    "https://www.googleapis.com/auth/cloud-platform";
// OAuth scope for reading and writing Cloud Storage objects.
inline constexpr std::string_view k_storage_read_write_scope =
    "https://www.googleapis.com/auth/devstorage.read_write";

class TokenSource {
public:
    virtual ~TokenSource() = default;
    // A valid access token, fetched or refreshed when the cached one expires within the
    // refresh margin. AUTH_FAILED / PERMISSION_DENIED when the grant is refused; transient
    // codes when the token endpoint is unreachable. Safe from several threads.
    virtual util::Result<std::string> token() = 0;
    // Short description for logs, never the token: "service account x@y.iam.gserviceaccount.com".
    virtual std::string describe() const = 0;
};

}  // namespace assetgen::auth
