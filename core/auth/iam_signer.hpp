#pragma once
// Signing without a private key: the IAM Service Account Credentials API's signBlob signs bytes
// with a Google-managed key of the service account, so V4 signed URLs can be made where only
// the metadata server's credentials exist (Cloud Run, Cloud Build). And make_url_signer, which
// picks a key file's signer or this one.
// API:
// https://cloud.google.com/iam/docs/reference/credentials/rest/v1/projects.serviceAccounts/signBlob

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "auth/env.hpp"
#include "auth/token_source.hpp"
#include "net/http.hpp"
#include "signing/v4.hpp"
#include "util/clock.hpp"
#include "util/retry.hpp"
#include "util/status.hpp"

namespace assetgen::auth {

inline constexpr std::string_view k_default_iam_endpoint = "https://iamcredentials.googleapis.com";
// Environment variable that points signBlob elsewhere (tests, private endpoints): a base URL
// "scheme://host[:port]" without a path.
inline constexpr std::string_view k_iam_endpoint_env = "ASSETGEN_IAM_ENDPOINT";

struct IamSignerOptions {
    std::string endpoint{k_default_iam_endpoint};  // scheme://host[:port], no trailing '/'
    int max_attempts = 3;                          // tries per signature, transient failures only
    // Waits between tries: full jitter under a ceiling that starts here and doubles, capped.
    std::chrono::milliseconds backoff{500};
    std::chrono::milliseconds max_backoff{8000};
    std::uint64_t jitter_seed = 0x1a35;         // the jitter's random source (util::SplitMix)
    std::chrono::milliseconds timeout{30'000};  // per HTTP request
};

// Signs through POST {endpoint}/v1/projects/-/serviceAccounts/{email}:signBlob with
// {"payload": base64(bytes)} and a bearer token, answered by {"keyId", "signedBlob"}. The caller
// needs iam.serviceAccounts.signBlob on the account (roles/iam.serviceAccountTokenCreator), also
// when it signs as itself. Thread-safe when the token source and transport are.
class IamSigner final : public signing::Signer {
public:
    // email is the account to sign as. tokens authorises the calls (shared, e.g. with storage);
    // transport and clock must outlive the signer.
    IamSigner(std::shared_ptr<TokenSource> tokens, net::HttpTransport& transport,
              util::Clock& clock, std::string email, IamSignerOptions options = {});

    // The raw RSA-SHA256 signature. Transient failures (429, 5xx, timeouts, connection errors) are
    // retried up to max_attempts with jittered backoff on the clock (util::retry_loop).
    // PERMISSION_DENIED on 403 (the message names the role needed), AUTH_FAILED on 401/404,
    // BAD_RESPONSE when the answer has no base64 signedBlob, the token source's Status when no
    // token can be had. Never contains the token or the payload.
    util::Result<std::string> sign(std::string_view bytes) override;
    std::string client_email() const override { return m_email; }
    // The keyId of the last signature ("" before the first).
    std::string key_id() const;
    // "IAM signBlob as <email>"
    std::string describe() const;

private:
    util::Result<std::string> sign_once(std::string_view bytes);

    std::shared_ptr<TokenSource> m_tokens;
    net::HttpTransport& m_transport;
    util::Clock& m_clock;
    std::string m_email;
    IamSignerOptions m_options;
    util::SplitMix m_random;
    mutable std::mutex m_mutex;  // guards m_key_id
    std::string m_key_id;
};

// A signer for V4 signed URLs and what it is, for logs.
struct UrlSigner {
    std::unique_ptr<signing::Signer> signer;
    std::string description;  // "service account key x@y (GOOGLE_APPLICATION_CREDENTIALS)" or
                              // "IAM signBlob as x@y (metadata server)"; never a secret
    bool remote = false;      // true: every signature is a network call (IAM signBlob)
};

// GOOGLE_APPLICATION_CREDENTIALS names a service-account key → an RsaSigner with its key (no
// network). Else the metadata server (GCE_METADATA_HOST or metadata.google.internal) gives the
// default account's email (fetched here, once) and tokens, and an IamSigner signs at
// ASSETGEN_IAM_ENDPOINT or iamcredentials.googleapis.com. CONFIG_ERROR when the key file cannot
// be used, or when there is no key file and no metadata server answers (the message says to set
// GOOGLE_APPLICATION_CREDENTIALS); the metadata server's codes when it answers with an error.
// transport and clock must outlive the signer.
util::Result<UrlSigner> make_url_signer(const Env& env, net::HttpTransport& transport,
                                        util::Clock& clock);

}  // namespace assetgen::auth
