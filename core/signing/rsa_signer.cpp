// How this works: the PEM text is read through a memory BIO into an EVP_PKEY once; each
// sign() call makes its own EVP_MD_CTX, so concurrent calls share only the read-only key.
// OpenSSL's error queue is drained after a failure so that its text cannot leak into a later
// message, and it never includes key material in any Status we return.

#include "signing/rsa_signer.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>

namespace assetgen::signing {
namespace {

using util::Code;

struct BioDeleter {
    void operator()(BIO* b) const { BIO_free(b); }
};
struct MdCtxDeleter {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

// The last OpenSSL error as "library:reason" text (no key data), and an empty queue.
std::string take_openssl_error() {
    unsigned long code = ERR_get_error();
    std::string text = code == 0                                  ? "unknown error"
                       : ERR_reason_error_string(code) != nullptr ? ERR_reason_error_string(code)
                                                                  : "error " + std::to_string(code);
    ERR_clear_error();
    return text;
}

}  // namespace

RsaSigner::RsaSigner(evp_pkey_st* key, std::string client_email)
    : m_key(key), m_client_email(std::move(client_email)) {}

RsaSigner::~RsaSigner() {
    EVP_PKEY_free(m_key);
}

util::Result<std::unique_ptr<RsaSigner>> RsaSigner::from_pem(std::string_view pem,
                                                             std::string client_email) {
    if (pem.empty() || pem.size() > (1u << 20)) {
        return util::error(Code::invalid_input, "private key: empty or too large");
    }
    std::unique_ptr<BIO, BioDeleter> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio) {
        return util::error(Code::internal, "private key: out of memory");
    }
    // A null password callback with an empty passphrase: encrypted keys fail instead of
    // prompting on the terminal.
    EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, const_cast<char*>(""));
    if (key == nullptr) {
        return util::error(Code::invalid_input, "private key: not a readable PEM private key (" +
                                                    take_openssl_error() + ")");
    }
    if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
        EVP_PKEY_free(key);
        return util::error(Code::invalid_input, "private key: not an RSA key");
    }
    return std::unique_ptr<RsaSigner>(new RsaSigner(key, std::move(client_email)));
}

util::Result<std::string> RsaSigner::sign(std::string_view bytes) {
    std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
    if (!ctx) {
        return util::error(Code::internal, "rsa-sha256 signing: out of memory");
    }
    std::string signature(static_cast<std::size_t>(EVP_PKEY_get_size(m_key)), '\0');
    std::size_t length = signature.size();
    if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, m_key) != 1 ||
        EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                       reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()) != 1) {
        return util::error(Code::internal, "rsa-sha256 signing: " + take_openssl_error());
    }
    signature.resize(length);
    return signature;
}

}  // namespace assetgen::signing
