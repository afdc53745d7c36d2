// Local refs stay inside the folders the operator allowed: the batch file's own, plus any
// --allow-local-refs folder. A ref is judged by where it leads once every symbolic link is
// followed, so a link inside the batch's folder that points out of it is refused too.

#include <filesystem>

#include "batch/validate.hpp"
#include "util/safe_dir.hpp"
#include "util/text.hpp"

namespace assetgen::batch {

std::string ref_base_dir(const std::string& input_location) {
    std::error_code ec;
    auto cwd = std::filesystem::current_path(ec);
    if (input_location == "-" || util::starts_with(input_location, "gs://")) {
        return cwd.string();
    }
    return (cwd / std::filesystem::path(input_location)).parent_path().lexically_normal().string();
}

std::string local_ref_problem(const std::string& ref, const ValidationOptions& options) {
    if (!options.confine_local_refs || !ref_scheme(ref).empty() ||
        util::starts_with(options.ref_base_dir, "gs://")) {
        return {};
    }
    std::filesystem::path path(ref);
    if (path.is_relative()) {
        path = std::filesystem::path(options.ref_base_dir) / path;
    }
    if (util::is_within(path.string(), options.ref_base_dir)) {
        return {};
    }
    for (const auto& dir : options.local_ref_dirs) {
        if (util::is_within(path.string(), dir)) {
            return {};
        }
    }
    return "\"" + ref + "\" is outside the batch's folder \"" + options.ref_base_dir +
           "\" (it leads to \"" + util::resolved_path(path.string()) +
           "\"); move the image into that folder, or allow its folder with --allow-local-refs DIR";
}

}  // namespace assetgen::batch
