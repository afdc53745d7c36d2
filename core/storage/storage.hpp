#pragma once
// The storage seam: whole objects in a local folder or in Cloud Storage, addressed by a
// location string ("out/job/a.png" or "gs://bucket/prefix/a.png").

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.hpp"

namespace assetgen::storage {

// True for "gs://..." locations.
bool is_gcs(std::string_view location);
// Joins a base location and a relative name with exactly one '/'.
std::string join(std::string_view base, std::string_view name);

class Storage {
public:
    virtual ~Storage() = default;
    // Writes a whole object; durable when it returns (local: temp + fsync + rename).
    virtual util::Status put(const std::string& location, std::string_view data,
                             const std::string& content_type) = 0;
    // Reads a whole object. NOT_FOUND when missing.
    virtual util::Result<std::string> get(const std::string& location) = 0;
    virtual util::Result<bool> exists(const std::string& location) = 0;
    // Locations of the objects whose names start with prefix (local: files below a folder).
    virtual util::Result<std::vector<std::string>> list(const std::string& prefix) = 0;
};

// A local folder (locations are paths).
class LocalStorage final : public Storage {
public:
    util::Status put(const std::string& location, std::string_view data,
                     const std::string& content_type) override;
    util::Result<std::string> get(const std::string& location) override;
    util::Result<bool> exists(const std::string& location) override;
    util::Result<std::vector<std::string>> list(const std::string& prefix) override;
};

}  // namespace assetgen::storage
