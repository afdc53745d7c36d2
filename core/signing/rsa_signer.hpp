#pragma once
// RSA PKCS#1 v1.5 signatures over SHA-256 with a service account's PEM private key. This pair
// of files is the only place that uses OpenSSL's signing API.

#include <memory>
#include <string>
#include <string_view>

#include "signing/v4.hpp"
#include "util/status.hpp"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY, kept out of this header

namespace assetgen::signing {

// A Signer holding an RSA private key in memory. Thread-safe: sign() may run concurrently.
class RsaSigner final : public Signer {
public:
    // Parses a PEM private key ("BEGIN PRIVATE KEY", PKCS#8; "BEGIN RSA PRIVATE KEY" too).
    // INVALID_INPUT when it is not a readable RSA key; the message never contains the key.
    static util::Result<std::unique_ptr<RsaSigner>> from_pem(std::string_view pem,
                                                             std::string client_email);
    ~RsaSigner() override;
    RsaSigner(const RsaSigner&) = delete;
    RsaSigner& operator=(const RsaSigner&) = delete;

    // RSASSA-PKCS1-v1_5 with SHA-256 over bytes; the raw signature (key size in bytes).
    // INTERNAL if OpenSSL fails.
    util::Result<std::string> sign(std::string_view bytes) override;
    std::string client_email() const override { return m_client_email; }

private:
    RsaSigner(evp_pkey_st* key, std::string client_email);

    evp_pkey_st* m_key;
    std::string m_client_email;
};

}  // namespace assetgen::signing
