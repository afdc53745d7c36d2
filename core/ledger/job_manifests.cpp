#include "ledger/job_manifests.hpp"

#include <algorithm>
#include <cctype>
#include <map>

namespace assetgen::ledger {

namespace {

bool all_digits(const std::string& s) {
    return !s.empty() && s.size() <= 9 &&
           std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

}  // namespace

bool is_shard_folder_name(const std::string& name) {
    const auto of = name.find("-of-");
    if (of == std::string::npos) {
        return false;
    }
    const std::string index = name.substr(0, of);
    const std::string count = name.substr(of + 4);
    return all_digits(index) && all_digits(count) && std::stol(index) < std::stol(count);
}

std::string job_manifest_of(const std::string& path) {
    const std::string tail = "/manifest.jsonl";
    const std::string shards = "/shards/";
    if (path.size() <= tail.size() ||
        path.compare(path.size() - tail.size(), tail.size(), tail) != 0) {
        return path;
    }
    const std::string folder = path.substr(0, path.size() - tail.size());  // …/shards/I-of-N
    const auto slash = folder.rfind('/');
    if (slash == std::string::npos || !is_shard_folder_name(folder.substr(slash + 1))) {
        return path;
    }
    const std::string above = folder.substr(0, slash + 1);  // …/<job>/shards/
    if (above.size() <= shards.size() ||
        above.compare(above.size() - shards.size(), shards.size(), shards) != 0) {
        return path;
    }
    return above.substr(0, above.size() - shards.size()) + tail;
}

std::vector<JobManifests> group_job_manifests(const std::vector<std::string>& paths) {
    std::vector<JobManifests> groups;
    std::map<std::string, std::size_t> at;  // job manifest → its group
    for (const auto& path : paths) {
        const std::string job = job_manifest_of(path);
        auto [it, fresh] = at.emplace(job, groups.size());
        if (fresh) {
            groups.push_back(JobManifests{job, {}});
        }
        auto& group = groups[it->second].paths;
        if (std::find(group.begin(), group.end(), path) == group.end()) {
            group.push_back(path);
        }
    }
    return groups;
}

std::string JobManifests::name() const {
    if (paths.size() == 1) {
        return paths.front();
    }
    const bool own = std::find(paths.begin(), paths.end(), job_manifest) != paths.end();
    const std::size_t shards = paths.size() - (own ? 1 : 0);
    const std::string listed = std::to_string(shards) + " shard manifest" +
                               (shards == 1 ? "" : "s") + " under " +
                               job_manifest.substr(0, job_manifest.size() - 14) + "shards/";
    return own ? job_manifest + " and " + listed : listed;
}

}  // namespace assetgen::ledger
