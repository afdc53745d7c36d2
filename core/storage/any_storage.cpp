#include "storage/any_storage.hpp"

#include "auth/chain.hpp"
#include "net/curl_transport.hpp"
#include "storage/gcs_wire.hpp"

namespace assetgen::storage {

AnyStorage::AnyStorage(const auth::Env& env, util::Clock& clock, GcsClientOptions options)
    : m_env(env), m_clock(clock), m_options(std::move(options)) {}

AnyStorage::~AnyStorage() = default;

util::Result<GcsStorage*> AnyStorage::gcs() {
    std::lock_guard lock(m_mutex);
    if (m_gcs) {
        return m_gcs.get();
    }
    auto transport = std::make_unique<net::CurlTransport>();
    TRY_ASSIGN(auto tokens,
               auth::default_token_source(m_env, *transport, m_clock,
                                          std::string(auth::k_storage_read_write_scope)));
    GcsClientOptions options = m_options;
    options.endpoint = resolve_gcs_endpoint(m_env);
    auto client = std::make_unique<GcsClient>(*transport, tokens.get(), m_clock, options);
    m_gcs = std::make_unique<GcsStorage>(std::move(client));
    m_transport = std::move(transport);
    m_tokens = std::move(tokens);
    return m_gcs.get();
}

auth::TokenSource* AnyStorage::tokens() {
    std::lock_guard lock(m_mutex);
    return m_tokens.get();
}

net::HttpTransport* AnyStorage::transport() {
    std::lock_guard lock(m_mutex);
    return m_transport.get();
}

util::Result<Storage*> AnyStorage::route(const std::string& location) {
    if (!is_gcs(location)) {
        return static_cast<Storage*>(&m_local);
    }
    TRY_ASSIGN(GcsStorage * g, gcs());
    return static_cast<Storage*>(g);
}

util::Status AnyStorage::put(const std::string& location, std::string_view data,
                             const std::string& content_type) {
    TRY_ASSIGN(Storage * s, route(location));
    return s->put(location, data, content_type);
}

util::Result<std::string> AnyStorage::get(const std::string& location) {
    TRY_ASSIGN(Storage * s, route(location));
    return s->get(location);
}

util::Result<bool> AnyStorage::exists(const std::string& location) {
    TRY_ASSIGN(Storage * s, route(location));
    return s->exists(location);
}

util::Result<std::vector<std::string>> AnyStorage::list(const std::string& prefix) {
    TRY_ASSIGN(Storage * s, route(prefix));
    return s->list(prefix);
}

}  // namespace assetgen::storage
