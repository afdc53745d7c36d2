// How this works: create() turns the key's PEM into an RsaSigner once (the PEM text is not
// kept). token() asks the TokenCache, which calls fetch() only when the cached token is within
// the refresh margin of expiry. fetch() builds a JWT (iss = client_email, aud = token_uri,
// iat = the injected clock, exp = iat + 1 h), posts it as a form to token_uri, and maps the
// answer onto Status codes. Messages name the endpoint and the OAuth error only: the
// assertion, the token and the key never enter a Status.

#include "auth/service_account.hpp"

#include <nlohmann/json.hpp>

#include "net/http_status.hpp"
#include "signing/jwt.hpp"
#include "signing/v4.hpp"
#include "util/atomic_file.hpp"
#include "util/text.hpp"

namespace assetgen::auth {
namespace {

using util::Code;

constexpr std::string_view k_jwt_bearer_grant = "urn:ietf:params:oauth:grant-type:jwt-bearer";

std::string shorten(std::string text, std::size_t max = 200) {
    if (text.size() > max) {
        text.resize(max);
        text += "...";
    }
    return text;
}

std::string string_field(const nlohmann::json& j, const char* name) {
    auto it = j.find(name);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

util::Result<ServiceAccountKey> parse_service_account_key(std::string_view json,
                                                          std::string_view where) {
    std::string prefix = std::string(where) + ": ";
    nlohmann::json j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) {
        return util::error(Code::config, prefix + "not a JSON credentials file");
    }
    std::string type = string_field(j, "type");
    if (type != "service_account") {
        return util::error(Code::config, prefix + "credentials type \"" + shorten(type, 40) +
                                             "\" is not supported (only \"service_account\")");
    }
    ServiceAccountKey key;
    key.client_email = string_field(j, "client_email");
    key.private_key = string_field(j, "private_key");
    key.private_key_id = string_field(j, "private_key_id");
    key.token_uri = string_field(j, "token_uri");
    key.project_id = string_field(j, "project_id");
    if (key.client_email.empty()) {
        return util::error(Code::config, prefix + "client_email is missing");
    }
    if (key.private_key.empty()) {
        return util::error(Code::config, prefix + "private_key is missing");
    }
    if (key.token_uri.empty()) {
        key.token_uri = std::string(k_default_token_uri);
    }
    return key;
}

util::Result<ServiceAccountKey> load_service_account_key(const std::string& path) {
    auto text = util::read_file(path);
    if (!text.ok()) {
        return util::error(Code::config, "credentials file \"" + path +
                                             "\" cannot be read: " + text.status().message());
    }
    return parse_service_account_key(*text, "credentials file \"" + path + "\"");
}

util::Result<AccessToken> parse_token_response(std::string_view body, std::string_view where) {
    nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    std::string prefix = std::string(where) + ": ";
    if (!j.is_object()) {
        return util::error(Code::bad_response, prefix + "token answer is not a JSON object");
    }
    AccessToken token;
    token.value = string_field(j, "access_token");
    if (token.value.empty()) {
        return util::error(Code::bad_response, prefix + "token answer has no access_token");
    }
    std::string type = string_field(j, "token_type");
    if (!type.empty() && util::to_lower(type) != "bearer") {
        return util::error(Code::bad_response,
                           prefix + "token type \"" + shorten(type, 40) + "\" is not Bearer");
    }
    token.expires_in = std::chrono::seconds(3600);
    auto it = j.find("expires_in");
    if (it != j.end() && it->is_number()) {
        token.expires_in = std::chrono::seconds(it->get<std::int64_t>());
    } else if (it != j.end() && it->is_string()) {
        try {
            token.expires_in = std::chrono::seconds(std::stoll(it->get<std::string>()));
        } catch (...) {
            return util::error(Code::bad_response, prefix + "expires_in is not a number");
        }
    }
    if (token.expires_in.count() <= 0) {
        return util::error(Code::bad_response, prefix + "token has already expired");
    }
    return token;
}

util::Status token_error(const net::HttpResponse& response, std::string_view where) {
    int status = response.status;
    // At a token endpoint a 400 (invalid_grant) or 404 (no such account) is bad credentials.
    const Code code = status == 400 || status == 404
                          ? Code::unauthenticated
                          : net::code_for_http_status(status, Code::bad_response);
    std::string detail;
    nlohmann::json j = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
    if (j.is_object()) {
        auto error = j.find("error");
        if (error != j.end() && error->is_string()) {  // OAuth: {"error","error_description"}
            detail = error->get<std::string>();
            std::string description = string_field(j, "error_description");
            if (!description.empty()) {
                detail += " (" + description + ")";
            }
        } else if (error != j.end() && error->is_object()) {  // google.rpc.Status
            detail = string_field(*error, "status") + " " + string_field(*error, "message");
        }
    }
    std::string message = std::string(where) + ": HTTP " + std::to_string(status);
    detail = std::string(util::trim(detail));
    if (!detail.empty()) {
        message += " " + shorten(util::redact(detail));
    }
    util::Status s = util::error(code, message);
    s.with_http_status(status);
    return s;
}

ServiceAccountTokenSource::ServiceAccountTokenSource(std::unique_ptr<signing::RsaSigner> signer,
                                                     std::string key_id, std::string token_uri,
                                                     net::HttpTransport& transport,
                                                     util::Clock& clock, std::string scope)
    : m_signer(std::move(signer)),
      m_key_id(std::move(key_id)),
      m_token_uri(std::move(token_uri)),
      m_transport(transport),
      m_clock(clock),
      m_scope(std::move(scope)),
      m_cache(clock) {}

util::Result<std::unique_ptr<ServiceAccountTokenSource>> ServiceAccountTokenSource::create(
    const ServiceAccountKey& key, net::HttpTransport& transport, util::Clock& clock,
    std::string scope) {
    auto signer = signing::RsaSigner::from_pem(key.private_key, key.client_email);
    if (!signer.ok()) {
        return util::error(
            Code::config, "service account " + key.client_email + ": " + signer.status().message());
    }
    return std::unique_ptr<ServiceAccountTokenSource>(new ServiceAccountTokenSource(
        std::move(signer).value(), key.private_key_id,
        key.token_uri.empty() ? std::string(k_default_token_uri) : key.token_uri, transport, clock,
        std::move(scope)));
}

util::Result<std::string> ServiceAccountTokenSource::token() {
    return m_cache.get([this] { return fetch(); });
}

std::string ServiceAccountTokenSource::describe() const {
    return "service account " + m_signer->client_email();
}

util::Result<AccessToken> ServiceAccountTokenSource::fetch() {
    std::string where = "token endpoint " + util::redact(m_token_uri) + " for " + describe();
    signing::JwtClaims claims;
    claims.issuer = m_signer->client_email();
    claims.scope = m_scope;
    claims.audience = m_token_uri;
    claims.issued_at = m_clock.unix_ms() / 1000;
    auto jwt = signing::make_jwt(claims, m_key_id, *m_signer);
    if (!jwt.ok()) {
        return util::error(jwt.status().code(), where + ": " + jwt.status().message());
    }

    net::HttpRequest request;
    request.method = "POST";
    request.url = m_token_uri;
    request.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                       {"Accept", "application/json"}};
    request.body = "grant_type=" + signing::uri_encode(k_jwt_bearer_grant, false) +
                   "&assertion=" + signing::uri_encode(*jwt, false);
    request.connect_timeout = std::chrono::seconds(10);
    request.timeout = std::chrono::seconds(30);
    request.max_response_bytes = 1u << 20;
    auto response = m_transport.send(request);
    if (!response.ok()) {
        return util::error(response.status().code(),
                           describe() + ": token request failed: " + response.status().message());
    }
    if (response->status != 200) {
        return token_error(*response, where);
    }
    return parse_token_response(response->body, where);
}

}  // namespace assetgen::auth
