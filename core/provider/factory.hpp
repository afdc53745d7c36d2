#pragma once
// Builds the image provider a run asks for, with what it needs to live: the dry run, or the
// Gemini API (API key from the environment) or Vertex AI (OAuth through the credential chain)
// over the process's shared transport, its requests abandonable through config.abort.

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "auth/env.hpp"
#include "auth/token_source.hpp"
#include "net/http.hpp"
#include "provider/image_provider.hpp"
#include "util/clock.hpp"

namespace assetgen::provider {

struct ProviderConfig {
    bool live = false;
    std::string simulate;        // dry run: the --simulate spec
    std::string api = "gemini";  // live: "gemini" | "vertex"
    std::string api_base;        // "" = Google's endpoint
    std::string project;         // vertex: "" = GOOGLE_CLOUD_PROJECT or the key file's project
    std::string location = "global";
    std::chrono::milliseconds timeout{300'000};
    // Gemini API: the body's service_tier ("" = standard, not sent). GeminiWireOptions.
    std::string service_tier;
    // `--api vertex --tier batch`: the gs:// staging prefix, resolved
    // (resolve_vertex_batch_staging).
    std::string batch_staging;
    // Live: when it turns true, requests in flight are abandoned (CANCELLED) within a second.
    const std::atomic<bool>* abort = nullptr;
};

// Owns the provider and what it uses; destroy it after the last request.
struct ProviderStack {
    std::unique_ptr<net::HttpTransport> transport;  // the shared one, with config.abort
    std::unique_ptr<auth::TokenSource> tokens;
    std::unique_ptr<ImageProvider> provider;
    std::string description;  // for logs: "gemini api at https://...", never a secret
};

// The Vertex project: --project, else GOOGLE_CLOUD_PROJECT, else the project of the key file
// GOOGLE_APPLICATION_CREDENTIALS names; CONFIG_ERROR naming both when there is none.
util::Result<std::string> vertex_project(const ProviderConfig& config, const auth::Env& env);

// AUTH_FAILED when the Gemini API has no key (naming GEMINI_API_KEY), CONFIG_ERROR for a bad
// --api, a Vertex run without a project, or an unreadable key file; INVALID_INPUT for a bad
// --simulate. transport (shared, thread-safe) and clock must outlive the stack.
util::Result<ProviderStack> make_provider(const ProviderConfig& config, const auth::Env& env,
                                          net::HttpTransport& transport, util::Clock& clock);

}  // namespace assetgen::provider
