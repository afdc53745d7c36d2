// How this works: sign() asks the token source for a bearer token and posts the base64 payload
// to signBlob; a transient failure (HTTP 429/5xx, a timeout, a dropped connection, a garbled
// answer) is tried again after a doubling wait on the injected clock, anything else ends at once.
// The answer's signedBlob is base64 of the raw signature, which v4.cpp hex-encodes. Messages name
// the endpoint and the account only: the token, the payload and the signature never enter a
// Status. make_url_signer prefers a key file (no network at all) and only then looks for the
// metadata server, fetching the account's email once, because Signer::client_email() cannot fail.

#include "auth/iam_signer.hpp"

#include <nlohmann/json.hpp>

#include "auth/metadata.hpp"
#include "auth/service_account.hpp"
#include "signing/rsa_signer.hpp"
#include "util/base64.hpp"
#include "util/text.hpp"

namespace assetgen::auth {
namespace {

using util::Code;

// An email fit to be one path segment of the signBlob URL.
bool plausible_email(std::string_view email) {
    return !email.empty() && email.size() <= 254 && email.find('@') != std::string_view::npos &&
           email.find_first_of("/?#% \t\r\n\"\\") == std::string_view::npos;
}

std::string trim_endpoint(std::string endpoint) {
    while (!endpoint.empty() && endpoint.back() == '/') {
        endpoint.pop_back();
    }
    return endpoint;
}

}  // namespace

IamSigner::IamSigner(std::shared_ptr<TokenSource> tokens, net::HttpTransport& transport,
                     util::Clock& clock, std::string email, IamSignerOptions options)
    : m_tokens(std::move(tokens)),
      m_transport(transport),
      m_clock(clock),
      m_email(std::move(email)),
      m_options(std::move(options)),
      m_random(m_options.jitter_seed) {
    m_options.endpoint = trim_endpoint(m_options.endpoint);
    if (m_options.max_attempts < 1) {
        m_options.max_attempts = 1;
    }
}

std::string IamSigner::key_id() const {
    std::lock_guard lock(m_mutex);
    return m_key_id;
}

std::string IamSigner::describe() const {
    return "IAM signBlob as " + m_email;
}

util::Result<std::string> IamSigner::sign(std::string_view bytes) {
    // signBlob has no side effect: every transient failure may be repeated.
    util::RetryPolicy policy;
    policy.max_attempts = m_options.max_attempts;
    policy.initial_backoff = m_options.backoff;
    policy.max_backoff = m_options.max_backoff;
    policy.jitter = util::Jitter::full;
    util::RetryHooks hooks;
    hooks.random = [this] { return m_random(); };
    auto signed_blob = util::retry_loop(
        m_clock, policy, [&](int) { return sign_once(bytes); }, hooks);
    return std::move(signed_blob.value);
}

util::Result<std::string> IamSigner::sign_once(std::string_view bytes) {
    const std::string where = "signBlob at " + util::redact(m_options.endpoint) + " as " + m_email;
    if (!plausible_email(m_email)) {
        return util::error(Code::config, where + ": not a service-account email");
    }
    auto token = m_tokens->token();
    if (!token.ok()) {
        return util::error(token.status().code(),
                           where + ": no access token: " + token.status().message());
    }
    net::HttpRequest request;
    request.method = "POST";
    request.url = m_options.endpoint + "/v1/projects/-/serviceAccounts/" + m_email + ":signBlob";
    request.headers = {{"Authorization", "Bearer " + *token},
                       {"Content-Type", "application/json"},
                       {"Accept", "application/json"}};
    request.body = nlohmann::json{{"payload", util::base64_encode(bytes)}}.dump();
    request.connect_timeout = std::chrono::seconds(10);
    request.timeout = m_options.timeout;
    request.max_response_bytes = 1u << 20;
    auto response = m_transport.send(request);
    if (!response.ok()) {
        return util::error(response.status().code(), where + ": " + response.status().message());
    }
    if (response->status != 200) {
        util::Status s = token_error(*response, where);
        if (response->status == 403) {
            util::Status hinted(s.code(), s.message() +
                                              " (the account needs iam.serviceAccounts.signBlob on "
                                              "itself: roles/iam.serviceAccountTokenCreator)");
            hinted.with_http_status(403);
            return hinted;
        }
        return s;
    }
    nlohmann::json j = nlohmann::json::parse(response->body, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains("signedBlob") || !j["signedBlob"].is_string()) {
        return util::error(Code::bad_response, where + ": the answer has no signedBlob");
    }
    auto signature = util::base64_decode(j["signedBlob"].get<std::string>());
    if (!signature.ok() || signature->empty()) {
        return util::error(Code::bad_response, where + ": signedBlob is not base64");
    }
    if (j.contains("keyId") && j["keyId"].is_string()) {
        std::lock_guard lock(m_mutex);
        m_key_id = j["keyId"].get<std::string>();
    }
    return std::move(signature).value();
}

util::Result<UrlSigner> make_url_signer(const Env& env, net::HttpTransport& transport,
                                        util::Clock& clock) {
    UrlSigner out;
    std::string key_file = env.get("GOOGLE_APPLICATION_CREDENTIALS");
    if (!key_file.empty()) {
        TRY_ASSIGN(ServiceAccountKey key, load_service_account_key(key_file));
        auto signer = signing::RsaSigner::from_pem(key.private_key, key.client_email);
        if (!signer.ok()) {
            return util::error(Code::config, "credentials file \"" + key_file +
                                                 "\": " + signer.status().message());
        }
        out.signer = std::move(signer).value();
        out.description =
            "service account key " + key.client_email + " (GOOGLE_APPLICATION_CREDENTIALS)";
        return out;
    }

    std::string host = metadata_host(env.get("GCE_METADATA_HOST"));
    auto email = metadata_service_account_email(transport, host);
    if (!email.ok()) {
        const util::Status& s = email.status();
        if (s.http_status() == 0 && util::is_transient(s.code())) {
            return util::error(
                Code::config,
                "signed urls need a signer: GOOGLE_APPLICATION_CREDENTIALS is not set and no "
                "metadata server answered at " +
                    host +
                    ". Set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file, or run on "
                    "Google Cloud (Cloud Run, Cloud Build, GCE) with a service account that has "
                    "roles/iam.serviceAccountTokenCreator on itself");
        }
        return util::error(s.code(), "signed urls: the service account's email: " + s.message());
    }
    if (!plausible_email(*email)) {
        return util::error(Code::bad_response, "metadata server " + host +
                                                   ": the default service account's email \"" +
                                                   email->substr(0, 80) + "\" is not usable");
    }
    IamSignerOptions options;
    std::string endpoint = env.get(std::string(k_iam_endpoint_env));
    if (!endpoint.empty()) {
        if (!util::starts_with(endpoint, "http://") && !util::starts_with(endpoint, "https://")) {
            return util::error(Code::config, std::string(k_iam_endpoint_env) + ": \"" +
                                                 endpoint.substr(0, 80) +
                                                 "\" is not an http:// or https:// URL");
        }
        options.endpoint = endpoint;
    }
    auto tokens = std::make_shared<MetadataTokenSource>(transport, clock, host);
    out.description = "IAM signBlob as " + *email + " (metadata server " + host + ")";
    out.signer = std::make_unique<IamSigner>(std::move(tokens), transport, clock, *email, options);
    out.remote = true;
    return out;
}

}  // namespace assetgen::auth
