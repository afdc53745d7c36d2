#pragma once
// Entries and manifest lines for the ledger tests.

#include <cstdint>
#include <string>

#include "ledger/entry.hpp"
#include "ledger/manifest.hpp"

namespace assetgen::test {

// 2025-11-24T12:00:00Z
constexpr std::int64_t k_noon_ms = 1'763'985'600'000;

// A paid, successful request of job `job`, image `scene`/v`variant`, $0.039.
inline ledger::Entry sample_entry(const std::string& job, const std::string& scene, int variant = 1,
                                  std::int64_t ts = k_noon_ms) {
    ledger::Entry e;
    e.ts = ts;
    e.user_id = "ops";
    e.job_id = job;
    e.prompt = "product on clean bg #" + scene;
    e.images = 1;
    e.cost = 39'000;
    e.id = job + "/" + scene + "/v" + std::to_string(variant);
    e.scene_id = scene;
    e.variant = variant;
    e.model = "gemini-2.5-flash-image";
    e.mode = "dry_run";
    e.status = "ok";
    e.estimated = 39'000;
    return e;
}

// The manifest line of the image that sample_entry describes.
inline ledger::ManifestEntry sample_manifest_entry(const ledger::Entry& e) {
    ledger::ManifestEntry m;
    m.ts = e.ts;
    m.job_id = e.job_id;
    m.user_id = e.user_id;
    m.scene_id = e.scene_id;
    m.variant = e.variant;
    m.prompt = e.prompt;
    m.uri = "out/" + e.job_id + "/" + e.scene_id + "/" + e.scene_id + "_v" +
            std::to_string(e.variant) + ".png";
    m.sha256 = std::string(64, 'a');
    m.bytes = 1234;
    m.mime = "image/png";
    m.latency_ms = 850;
    m.attempts = 1;
    m.cost = e.cost;
    m.estimated = e.estimated;
    m.model = e.model;
    m.mode = e.mode;
    m.ledger_id = e.id;
    return m;
}

}  // namespace assetgen::test
