#pragma once
// The one Context of the process (core/context/context.hpp), built in main once the command
// line is parsed: the only place that reads the environment for core (auth::Env::process) and
// the only place that makes a CurlTransport.

#include "auth/env.hpp"
#include "context/context.hpp"
#include "net/curl_transport.hpp"

namespace assetgen::cli {

// The places the process's environment names (context::resolve_places), for what is needed
// before the Context exists: the defaults shown in --help.
context::Places process_places();

class ProcessContext {
public:
    ProcessContext();
    ProcessContext(const ProcessContext&) = delete;
    ProcessContext& operator=(const ProcessContext&) = delete;

    const context::Context& get() const { return m_context; }

private:
    auth::Env m_env;
    net::CurlTransport m_transport;  // shared by every request; thread-safe
    context::Context m_context;      // last: refers to the above
};

}  // namespace assetgen::cli
