#pragma once
// What a command runs in, built once by the command line (cli/context.cpp) and passed down:
// the clock, the one HTTP transport every request goes through, the environment as it was at
// start (for the credential chain), the places the environment names, and the factories of the
// provider and the URL signer. Nothing in core reads the environment or builds a transport of
// its own; a test builds a Context over its fakes (tests/support/test_context.hpp).

#include <functional>
#include <string>

#include "auth/env.hpp"
#include "auth/iam_signer.hpp"
#include "net/http.hpp"
#include "provider/factory.hpp"
#include "storage/gcs_client.hpp"
#include "util/clock.hpp"
#include "util/status.hpp"
#include "util/user_dirs.hpp"

namespace assetgen::context {

// The places the environment names, read once.
struct Places {
    // Cloud Storage: the endpoint (STORAGE_EMULATOR_HOST, CLOUD_STORAGE_EMULATOR_ENDPOINT, else
    // Google's) as AnyStorage and the gs:// ledger use it, and the emulator's "[scheme://]host
    // [:port]" as signed URLs name it ("" for Cloud Storage).
    storage::GcsEndpoint gcs;
    std::string emulator_host;
    std::string temp_dir = "/tmp";  // $TMPDIR, else /tmp: nameless temp files
    std::string spool_dir;          // $ASSETGEN_SPOOL_DIR; "" = the state folder's
    util::UserDirEnv state_dirs;    // XDG_STATE_HOME, HOME, TMPDIR
    util::UserDirEnv cache_dirs;    // XDG_CACHE_HOME, HOME, TMPDIR
};

// The provider a run asks for, over the context's transport (provider::make_provider).
using ProviderFactory =
    std::function<util::Result<provider::ProviderStack>(const provider::ProviderConfig&)>;
// A V4 URL signer (auth::make_url_signer over the context's transport and environment).
using SignerFactory = std::function<util::Result<auth::UrlSigner>()>;

// Plain references and functions; what they refer to outlives every user of the context.
struct Context {
    util::Clock& clock;
    // Shared by every request of the process: thread-safe, pools connections. Per-request
    // settings (timeouts, HttpRequest::abort) travel with each request.
    net::HttpTransport& transport;
    const auth::Env& env;  // the credential chain reads it (auth/chain.hpp)
    Places places;
    ProviderFactory make_provider;
    SignerFactory make_signer;

    // What an AnyStorage or a gs:// ledger's client of this context is built with (the
    // endpoint; the rest at its defaults).
    storage::GcsClientOptions gcs_options() const {
        storage::GcsClientOptions o;
        o.endpoint = places.gcs;
        return o;
    }
};

// The places env names (Places above), as the builder and tests resolve them.
Places resolve_places(const auth::Env& env);

// The factories over transport, env and clock: the real provider and signer.
ProviderFactory real_provider_factory(const auth::Env& env, net::HttpTransport& transport,
                                      util::Clock& clock);
SignerFactory real_signer_factory(const auth::Env& env, net::HttpTransport& transport,
                                  util::Clock& clock);

}  // namespace assetgen::context
