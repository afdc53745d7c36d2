#include "signing/jwt.hpp"

#include <nlohmann/json.hpp>

#include "util/base64.hpp"

namespace assetgen::signing {

util::Result<std::string> make_jwt(const JwtClaims& claims, const std::string& key_id,
                                   Signer& signer) {
    if (claims.issuer.empty() || claims.audience.empty()) {
        return util::error(util::Code::invalid_input, "jwt: issuer and audience are required");
    }
    // nlohmann::ordered_json keeps the fields in the order written, so the token is stable.
    nlohmann::ordered_json header = {{"alg", "RS256"}, {"typ", "JWT"}};
    if (!key_id.empty()) {
        header["kid"] = key_id;
    }
    nlohmann::ordered_json body = {
        {"iss", claims.issuer},
        {"scope", claims.scope},
        {"aud", claims.audience},
        {"iat", claims.issued_at},
        {"exp", claims.issued_at + claims.lifetime_seconds},
    };
    std::string signing_input =
        util::base64url_encode(header.dump()) + "." + util::base64url_encode(body.dump());
    TRY_ASSIGN(std::string signature, signer.sign(signing_input));
    return signing_input + "." + util::base64url_encode(signature);
}

}  // namespace assetgen::signing
