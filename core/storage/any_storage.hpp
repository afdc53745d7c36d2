#pragma once
// One Storage for every location a run names: local paths go to a LocalStorage, gs://
// locations to a GcsStorage that is built on first use (so a run that never touches Cloud
// Storage needs no credentials), over the given (shared) HTTP transport and the credential chain
// of DESIGN §8 (emulator, then GOOGLE_APPLICATION_CREDENTIALS, then the metadata server).

#include <memory>
#include <mutex>
#include <string>

#include "auth/env.hpp"
#include "auth/token_source.hpp"
#include "net/http.hpp"
#include "storage/gcs_storage.hpp"
#include "storage/storage.hpp"
#include "util/clock.hpp"

namespace assetgen::storage {

class AnyStorage final : public Storage {
public:
    // env (for the credential chain), transport and clock must outlive this. options: the
    // endpoint (resolve_gcs_endpoint, as the Context resolved it), retries, limits, log.
    AnyStorage(const auth::Env& env, net::HttpTransport& transport, util::Clock& clock,
               GcsClientOptions options);
    ~AnyStorage() override;

    util::Status put(const std::string& location, std::string_view data,
                     const std::string& content_type) override;
    util::Status put_from_fd(const std::string& location, int fd, std::uint64_t size,
                             const std::string& content_type) override;
    util::Status put_unsynced(const std::string& location, std::string_view data,
                              const std::string& content_type) override;
    // The local side's (Cloud Storage writes are durable when they return).
    util::Status sync_puts() override;
    util::Result<std::string> get(const std::string& location) override;
    util::Result<bool> exists(const std::string& location) override;
    util::Result<std::vector<std::string>> list(const std::string& prefix) override;
    util::Result<ObjectInfo> stat(const std::string& location) override;
    util::Result<ObjectInfo> write(const std::string& location, std::string_view data,
                                   const WriteOptions& options) override;
    util::Result<ObjectRead> read(const std::string& location, const ReadOptions& options) override;
    util::Result<ObjectInfo> read_to(const std::string& location, const ByteSink& sink,
                                     const ReadOptions& options) override;
    // Sources must be on the destination's side (INVALID_INPUT otherwise).
    util::Result<ObjectInfo> compose(const std::string& destination,
                                     const std::vector<SourceObject>& sources,
                                     const WriteOptions& options) override;
    util::Result<ObjectInfo> copy(const SourceObject& source, const std::string& destination,
                                  const WriteOptions& options) override;

    // The Cloud Storage side, built on first call. CONFIG_ERROR when no credentials can be
    // used (the message says which variable to set).
    util::Result<GcsStorage*> gcs();
    // The token source of the Cloud Storage side (nullptr before gcs() or for an emulator).
    auth::TokenSource* tokens();
    // The transport of the Cloud Storage side (nullptr before gcs()).
    net::HttpTransport* transport();
    // The options the Cloud Storage side is built with (its endpoint).
    const GcsClientOptions& options() const { return m_options; }

private:
    util::Result<Storage*> route(const std::string& location);

    const auth::Env& m_env;
    net::HttpTransport& m_shared_transport;
    util::Clock& m_clock;
    GcsClientOptions m_options;
    LocalStorage m_local;
    std::mutex m_mutex;
    net::HttpTransport* m_transport = nullptr;  // set by gcs()
    std::unique_ptr<auth::TokenSource> m_tokens;
    std::unique_ptr<GcsStorage> m_gcs;
};

}  // namespace assetgen::storage
