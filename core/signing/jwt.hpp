#pragma once
// JSON Web Tokens signed RS256, as the OAuth2 JWT bearer grant (RFC 7523) of a service
// account needs them: the "assertion" posted to the token endpoint.

#include <cstdint>
#include <string>

#include "signing/v4.hpp"
#include "util/status.hpp"

namespace assetgen::signing {

struct JwtClaims {
    std::string issuer;                    // iss: the service account's email
    std::string scope;                     // scope: space-separated OAuth scopes
    std::string audience;                  // aud: the token endpoint (token_uri)
    std::int64_t issued_at = 0;            // iat, Unix seconds
    std::int64_t lifetime_seconds = 3600;  // exp = iat + this; Google allows at most 1 h
};

// "b64url(header).b64url(claims).b64url(signature)" with header
// {"alg":"RS256","typ":"JWT","kid":key_id} ("kid" left out when key_id is empty).
// INVALID_INPUT for an empty issuer or audience; the signer's Status otherwise.
util::Result<std::string> make_jwt(const JwtClaims& claims, const std::string& key_id,
                                   Signer& signer);

}  // namespace assetgen::signing
