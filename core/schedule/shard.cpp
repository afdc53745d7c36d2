#include "schedule/shard.hpp"

#include <charconv>

#include "util/hash.hpp"

namespace assetgen::schedule {

namespace {

// A whole non-negative number, nothing else.
std::optional<long long> to_int(std::string_view text) {
    long long v = 0;
    if (text.empty() || text.size() > 9) {
        return std::nullopt;
    }
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || v < 0) {
        return std::nullopt;
    }
    return v;
}

util::Status check_count(long long count, const std::string& where) {
    if (count < 1) {
        return util::error(
            util::Code::config,
            where + ": the number of shards must be 1 or more, not " + std::to_string(count));
    }
    return util::ok_status();
}

util::Result<Shard> make_shard(const std::string& index_text, const std::string& count_text,
                               const std::string& where) {
    auto index = to_int(index_text);
    auto count = to_int(count_text);
    if (!index || !count) {
        return util::error(util::Code::config, where + ": \"" + index_text + "/" + count_text +
                                                   "\" is not a shard I/N of two whole numbers");
    }
    TRY(check_count(*count, where));
    if (*index >= *count) {
        return util::error(util::Code::config, where + ": shard index " + std::to_string(*index) +
                                                   " is not below the number of shards " +
                                                   std::to_string(*count) + " (0 ≤ I < N)");
    }
    Shard s;
    s.index = static_cast<int>(*index);
    s.count = static_cast<int>(*count);
    s.source = where;
    return s;
}

}  // namespace

std::uint64_t shard_hash(std::string_view scene_id) {
    const util::Sha256 d = util::sha256(scene_id);
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) {
        v = (v << 8) | static_cast<std::uint8_t>(d[static_cast<std::size_t>(i)]);
    }
    return v;
}

int shard_of(std::string_view scene_id, int count) {
    return static_cast<int>(shard_hash(scene_id) %
                            static_cast<std::uint64_t>(count < 1 ? 1 : count));
}

util::Result<Shard> parse_shard(const std::string& text, const std::string& where) {
    const auto slash = text.find('/');
    if (slash == std::string::npos) {
        return util::error(
            util::Code::config,
            where + ": \"" + text + "\" is not a shard I/N (e.g. 0/4: the first of four)");
    }
    return make_shard(text.substr(0, slash), text.substr(slash + 1), where);
}

util::Result<std::optional<Shard>> resolve_shard(const std::string& flag, int shards,
                                                 const auth::Env& env) {
    if (shards < 0) {
        return util::error(util::Code::config, "--shards: the number of shards must be 1 or more");
    }
    std::optional<Shard> shard;
    if (!flag.empty()) {
        TRY_ASSIGN(shard, parse_shard(flag, "--shard"));
    } else {
        // Task runners' variables, in turn; a half-given pair is an error, not a fall-through.
        const std::pair<const char*, const char*> pairs[] = {
            {"CLOUD_RUN_TASK_INDEX", "CLOUD_RUN_TASK_COUNT"},
            {"BATCH_TASK_INDEX", "BATCH_TASK_COUNT"}};
        for (const auto& [index_name, count_name] : pairs) {
            const std::string index = env.get(index_name);
            const std::string count = env.get(count_name);
            if (index.empty() && count.empty()) {
                continue;
            }
            if (index.empty() || count.empty()) {
                return util::error(util::Code::config,
                                   std::string(index.empty() ? count_name : index_name) +
                                       " is set but " + (index.empty() ? index_name : count_name) +
                                       " is not: give both, or --shard I/N");
            }
            TRY_ASSIGN(shard, make_shard(index, count, std::string(index_name) + "/" + count_name));
            if (shard->count == 1) {
                // Cloud Run sets 0/1 for every one-task job: that is an ordinary, unsharded run
                // (its records stay where they always were).
                shard.reset();
            }
            break;
        }
        if (!shard) {
            const std::string index = env.get("JOB_COMPLETION_INDEX");
            if (!index.empty()) {
                if (shards == 0) {
                    return util::error(
                        util::Code::config,
                        "JOB_COMPLETION_INDEX is set but the number of shards is not: give "
                        "--shards N (the Job's completions), or --shard I/N");
                }
                TRY_ASSIGN(shard, make_shard(index, std::to_string(shards),
                                             "JOB_COMPLETION_INDEX/--shards"));
            }
        }
    }
    if (!shard) {
        if (shards > 0) {
            return util::error(
                util::Code::config,
                "--shards " + std::to_string(shards) +
                    " without a shard index: give --shard I/N, or run as a task with "
                    "CLOUD_RUN_TASK_INDEX, BATCH_TASK_INDEX or JOB_COMPLETION_INDEX (--merge "
                    "combines the shards)");
        }
        return std::optional<Shard>();
    }
    if (shards > 0 && shards != shard->count) {
        return util::error(util::Code::config, "--shards " + std::to_string(shards) +
                                                   " disagrees with " + shard->source + " " +
                                                   shard->text());
    }
    if (auto attempt = to_int(env.get("CLOUD_RUN_TASK_ATTEMPT")); attempt) {
        shard->attempt = static_cast<int>(*attempt);
    }
    return shard;
}

util::Result<int> resolve_shard_count(int shards, const auth::Env& env) {
    if (shards < 0) {
        return util::error(util::Code::config, "--shards: the number of shards must be 1 or more");
    }
    if (shards > 0) {
        return shards;
    }
    for (const char* name : {"CLOUD_RUN_TASK_COUNT", "BATCH_TASK_COUNT"}) {
        const std::string text = env.get(name);
        if (!text.empty()) {
            auto count = to_int(text);
            if (!count) {
                return util::error(util::Code::config,
                                   std::string(name) + ": \"" + text + "\" is not a whole number");
            }
            TRY(check_count(*count, name));
            return static_cast<int>(*count);
        }
    }
    return util::error(util::Code::config,
                       "--merge: give --shards N, the number of shards the job ran as");
}

}  // namespace assetgen::schedule
