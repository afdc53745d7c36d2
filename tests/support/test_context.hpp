#pragma once
// A context::Context for unit tests: the given clock and transport, a fixed environment (no
// variable of the real one leaks in; TMPDIR unset gives /tmp), and the real factories
// over the transport (a dry-run provider needs no network). Owns what the Context refers to.

#include <map>
#include <string>

#include "auth/env.hpp"
#include "context/context.hpp"
#include "net/http.hpp"
#include "util/clock.hpp"
#include "util/status.hpp"

namespace assetgen::test {

// A transport that refuses every request: a test that must not touch the network uses it.
class NoNetworkTransport final : public net::HttpTransport {
public:
    util::Result<net::HttpResponse> send(const net::HttpRequest& request) override {
        ++calls;
        return util::error(util::Code::unavailable, request.describe() + ": no network in tests");
    }
    int calls = 0;
};

class TestContext {
public:
    explicit TestContext(util::Clock& clock, std::map<std::string, std::string> env = {},
                         net::HttpTransport* transport = nullptr)
        : m_env(auth::Env::from_map(std::move(env))),
          m_context{clock,
                    transport != nullptr ? *transport : m_no_network,
                    m_env,
                    context::resolve_places(m_env),
                    context::real_provider_factory(
                        m_env, transport != nullptr ? *transport : m_no_network, clock),
                    context::real_signer_factory(
                        m_env, transport != nullptr ? *transport : m_no_network, clock)} {}
    TestContext(const TestContext&) = delete;
    TestContext& operator=(const TestContext&) = delete;

    const context::Context& get() const { return m_context; }
    context::Context& get() { return m_context; }
    NoNetworkTransport& no_network() { return m_no_network; }

private:
    NoNetworkTransport m_no_network;
    auth::Env m_env;
    context::Context m_context;
};

}  // namespace assetgen::test
