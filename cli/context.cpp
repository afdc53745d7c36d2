// The environment is read here, once, and nowhere below cli/ (the ctest context_boundary checks
// it): the credential chain reads the process's variables through one auth::Env, the places
// they name are resolved once, and every request of the process goes through one CurlTransport. A
// request that may be abandoned after a signal carries its own abort flag (provider::make_provider
// wraps the transport for the model's requests), so storage and ledger writes still finish.
#include "context.hpp"

#include "util/clock.hpp"

namespace assetgen::cli {

context::Places process_places() {
    return context::resolve_places(auth::Env::process());
}

namespace {

net::CurlTransportOptions shared_transport_options() {
    net::CurlTransportOptions o;
    // The model's, the bucket's and the references' requests share one pool of idle handles
    // (each handle keeps its own connections, to every host it has talked to, so a handle
    // serves the model and the bucket alike). A handle is made only when every pooled one is
    // busy, so the pool never holds more than the most requests that were in flight at once;
    // the cap is there for that peak: --concurrency (up to 1024) plus the references' and the
    // bucket's requests. A cap below it (it was 128) closed the excess handles at the end of
    // every wave of answers, and their next requests each paid a new TCP (and TLS) connection.
    o.max_idle_handles = 2048;
    return o;
}

}  // namespace

ProcessContext::ProcessContext()
    : m_env(auth::Env::process()),
      m_transport(shared_transport_options()),
      m_context{util::system_clock(),
                m_transport,
                m_env,
                context::resolve_places(m_env),
                context::real_provider_factory(m_env, m_transport, util::system_clock()),
                context::real_signer_factory(m_env, m_transport, util::system_clock())} {}

}  // namespace assetgen::cli
