#include "storage/any_storage.hpp"

#include "auth/chain.hpp"
#include "storage/gcs_wire.hpp"

namespace assetgen::storage {

AnyStorage::AnyStorage(const auth::Env& env, net::HttpTransport& transport, util::Clock& clock,
                       GcsClientOptions options)
    : m_env(env), m_shared_transport(transport), m_clock(clock), m_options(std::move(options)) {}

AnyStorage::~AnyStorage() = default;

util::Result<GcsStorage*> AnyStorage::gcs() {
    std::lock_guard lock(m_mutex);
    if (m_gcs) {
        return m_gcs.get();
    }
    net::HttpTransport& transport = m_shared_transport;
    TRY_ASSIGN(auto tokens,
               auth::default_token_source(m_env, transport, m_clock,
                                          std::string(auth::k_storage_read_write_scope)));
    auto client = std::make_unique<GcsClient>(transport, tokens.get(), m_clock, m_options);
    m_gcs = std::make_unique<GcsStorage>(std::move(client));
    m_transport = &transport;
    m_tokens = std::move(tokens);
    return m_gcs.get();
}

auth::TokenSource* AnyStorage::tokens() {
    std::lock_guard lock(m_mutex);
    return m_tokens.get();
}

net::HttpTransport* AnyStorage::transport() {
    std::lock_guard lock(m_mutex);
    return m_transport;
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

util::Status AnyStorage::put_unsynced(const std::string& location, std::string_view data,
                                      const std::string& content_type) {
    TRY_ASSIGN(Storage * s, route(location));
    return s->put_unsynced(location, data, content_type);
}

util::Status AnyStorage::sync_puts() {
    return m_local.sync_puts();
}

util::Status AnyStorage::put_from_fd(const std::string& location, int fd, std::uint64_t size,
                                     const std::string& content_type) {
    TRY_ASSIGN(Storage * s, route(location));
    return s->put_from_fd(location, fd, size, content_type);
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

util::Result<ObjectInfo> AnyStorage::stat(const std::string& location) {
    TRY_ASSIGN(Storage * s, route(location));
    return s->stat(location);
}

util::Result<ObjectInfo> AnyStorage::write(const std::string& location, std::string_view data,
                                           const WriteOptions& options) {
    TRY_ASSIGN(Storage * s, route(location));
    return s->write(location, data, options);
}

util::Result<ObjectRead> AnyStorage::read(const std::string& location, const ReadOptions& options) {
    TRY_ASSIGN(Storage * s, route(location));
    return s->read(location, options);
}

util::Result<ObjectInfo> AnyStorage::read_to(const std::string& location, const ByteSink& sink,
                                             const ReadOptions& options) {
    TRY_ASSIGN(Storage * s, route(location));
    return s->read_to(location, sink, options);
}

util::Result<ObjectInfo> AnyStorage::compose(const std::string& destination,
                                             const std::vector<SourceObject>& sources,
                                             const WriteOptions& options) {
    for (const auto& source : sources) {
        if (is_gcs(source.location) != is_gcs(destination)) {
            return util::error(util::Code::invalid_input, "compose " + destination + ": source \"" +
                                                              source.location +
                                                              "\" is not on the same storage");
        }
    }
    TRY_ASSIGN(Storage * s, route(destination));
    return s->compose(destination, sources, options);
}

util::Result<ObjectInfo> AnyStorage::copy(const SourceObject& source,
                                          const std::string& destination,
                                          const WriteOptions& options) {
    if (is_gcs(source.location) != is_gcs(destination)) {
        return util::error(util::Code::invalid_input, "copy " + source.location + " to " +
                                                          destination +
                                                          ": both must be on the same storage");
    }
    TRY_ASSIGN(Storage * s, route(destination));
    return s->copy(source, destination, options);
}

}  // namespace assetgen::storage
