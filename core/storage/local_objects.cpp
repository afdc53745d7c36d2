// How this works: LocalStorage gives the guarantees of Cloud Storage's generations with a
// file system's own means.
// - A version is an inode: every write, compose and copy fills a temp file beside the target
//   and renames it over (util::write_file_atomic_with), so an open descriptor always sees one
//   whole version, and its fstat and extended attribute describe exactly that version.
// - The extended attribute "user.assetgen.object" (JSON) holds the generation, component count,
//   content type, CRC32C and custom metadata, set on the temp file before the rename, so the
//   bytes and their generation appear together. It also holds the stamp (inode, size, mtime)
//   the file had then: a file changed in place later (an append by another part of assetgen,
//   an editor) no longer matches its stamp, and its generation is then derived from its stat
//   like that of a file written without the attribute, so a change is never hidden.
// - A new generation is the time in microseconds, or the old generation + 1 when that is not
//   larger: it always changes and grows, as Cloud Storage's does.
// - Preconditions are checked and the rename made under an exclusive flock of the target's
//   folder (a descriptor of the folder itself: no lock file appears), so two writers with the
//   same ifGenerationMatch cannot both succeed. put and put_from_fd fill and fsync their temp
//   file unlocked, then rename under the same lock (util::RenameLock::folder), so a plain put
//   cannot land between another writer's check and its rename (and be lost under a write
//   that believed the object unchanged). Reads take no lock.
// A file system without user extended attributes (ENOTSUP) still has generations (derived);
// only custom metadata is then refused.

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

#include <nlohmann/json.hpp>

#include "storage/crc32c.hpp"
#include "storage/storage.hpp"
#include "util/atomic_file.hpp"
#include "util/base64.hpp"
#include "util/safe_dir.hpp"

namespace assetgen::storage {
namespace {

using nlohmann::json;
using util::Code;
using util::Status;
using util::UniqueFd;

constexpr const char* k_xattr = "user.assetgen.object";
constexpr std::size_t k_max_xattr = 60 * 1024;           // ext4 keeps a value within a block
constexpr std::uint64_t k_default_max_read = 64u << 20;  // as GcsClientOptions::max_read_bytes
constexpr std::size_t k_copy_chunk = 1u << 20;

std::string stamp_of(const struct stat& st) {
    return std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) + ":" +
           std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
}

// A generation for a file without a matching attribute: a hash of its stamp, positive, below
// 2^62 (so +1 never overflows).
std::int64_t derived_generation(const struct stat& st) {
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (char c : stamp_of(st)) {
        h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
    }
    h ^= h >> 31;
    h *= 0x9e3779b97f4a7c15ull;
    h ^= h >> 29;
    return static_cast<std::int64_t>((h >> 2) | 1);
}

std::string crc_text(std::uint32_t crc) {
    const char bytes[4] = {static_cast<char>(crc >> 24), static_cast<char>(crc >> 16),
                           static_cast<char>(crc >> 8), static_cast<char>(crc)};
    return util::base64_encode(std::string_view(bytes, 4));
}

// One version of a file, as an open descriptor shows it.
struct Version {
    UniqueFd fd;
    struct stat st {};
    ObjectInfo info;
};

ObjectInfo info_from(int fd, const struct stat& st) {
    ObjectInfo info;
    info.size = static_cast<std::uint64_t>(st.st_size);
    std::string value(k_max_xattr, '\0');
    const ssize_t n = ::fgetxattr(fd, k_xattr, value.data(), value.size());
    if (n > 0) {
        json j = json::parse(value.substr(0, static_cast<std::size_t>(n)), nullptr, false);
        if (j.is_object() && j.value("stamp", std::string()) == stamp_of(st) &&
            j.value("generation", std::int64_t{0}) > 0) {
            info.generation = j.value("generation", std::int64_t{0});
            info.component_count = std::max(1, j.value("components", 1));
            info.content_type = j.value("content_type", std::string());
            info.crc32c = j.value("crc32c", std::string());
            if (auto m = j.find("metadata"); m != j.end() && m->is_object()) {
                for (const auto& [k, v] : m->items()) {
                    if (v.is_string()) {
                        info.metadata[k] = v.get<std::string>();
                    }
                }
            }
            return info;
        }
    }
    info.generation = derived_generation(st);
    return info;
}

// The live version, or NOT_FOUND.
util::Result<Version> open_version(const std::string& location) {
    Version v;
    TRY_ASSIGN(v.fd, util::open_file(location, O_RDONLY));
    if (::fstat(v.fd.get(), &v.st) != 0) {
        return util::io_error(location + ": cannot stat", errno);
    }
    if (!S_ISREG(v.st.st_mode)) {
        return util::error(Code::storage_io, location + ": not a regular file");
    }
    v.info = info_from(v.fd.get(), v.st);
    return v;
}

// The live version, or nullopt when there is none.
util::Result<std::optional<Version>> find_version(const std::string& location) {
    auto v = open_version(location);
    if (!v.ok()) {
        if (v.status().code() == Code::not_found) {
            return std::optional<Version>();
        }
        return v.status();
    }
    return std::optional<Version>(std::move(v).value());
}

Status check_write_precondition(const std::string& where, const std::optional<Version>& current,
                                const WriteOptions& options) {
    if (!options.if_generation_match) {
        return util::ok_status();
    }
    const std::int64_t want = *options.if_generation_match;
    const std::int64_t have = current ? current->info.generation : 0;
    return want == have ? util::ok_status() : precondition_failed(where);
}

// An exclusive flock of a folder, held while alive.
class FolderLock {
public:
    static util::Result<FolderLock> of(const std::string& location) {
        TRY_ASSIGN(util::FileSlot slot, util::open_parent(location, true));
        while (::flock(slot.dir.get(), LOCK_EX) != 0) {
            if (errno != EINTR) {
                return util::io_error(location + ": cannot lock its folder", errno);
            }
        }
        FolderLock lock;
        lock.m_fd = std::move(slot.dir);
        return lock;
    }
    FolderLock() = default;
    FolderLock(FolderLock&&) = default;
    ~FolderLock() {
        if (m_fd.get() >= 0) {
            ::flock(m_fd.get(), LOCK_UN);
        }
    }

private:
    UniqueFd m_fd;
};

std::int64_t next_generation(const std::optional<Version>& current) {
    const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    const std::int64_t old = current ? current->info.generation : 0;
    return std::max<std::int64_t>(now, old + 1);
}

Status write_all(int fd, std::string_view data, const std::string& where) {
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return util::io_error(where + ": write failed", errno);
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return util::ok_status();
}

// Calls sink with the bytes of fd from offset up to end, a chunk at a time.
Status pump(int fd, std::uint64_t offset, std::uint64_t end, const std::string& where,
            const ByteSink& sink) {
    std::string buf(k_copy_chunk, '\0');
    while (offset < end) {
        const std::size_t want =
            static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), end - offset));
        const ssize_t n = ::pread(fd, buf.data(), want, static_cast<off_t>(offset));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return util::io_error(where + ": read failed", errno);
        }
        if (n == 0) {
            break;  // truncated in place meanwhile: what there was
        }
        TRY(sink(std::string_view(buf.data(), static_cast<std::size_t>(n))));
        offset += static_cast<std::uint64_t>(n);
    }
    return util::ok_status();
}

// Publishes a new version of location: fill writes the bytes (returning their CRC32C), then
// the attribute is set with the stamp and the temp file renamed over. The caller holds the
// folder's lock. The new version's info.
util::Result<ObjectInfo> publish(const std::string& location, ObjectInfo info,
                                 const std::function<util::Result<std::uint32_t>(int)>& fill) {
    TRY(util::write_file_atomic_with(location, [&](int fd) -> Status {
        TRY_ASSIGN(std::uint32_t crc, fill(fd));
        struct stat st {};
        if (::fstat(fd, &st) != 0) {
            return util::io_error(location + ": cannot stat its temp file", errno);
        }
        info.size = static_cast<std::uint64_t>(st.st_size);
        info.crc32c = crc_text(crc);
        json j = {{"generation", info.generation},     {"components", info.component_count},
                  {"content_type", info.content_type}, {"crc32c", info.crc32c},
                  {"metadata", info.metadata},         {"stamp", stamp_of(st)}};
        const std::string value = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        if (value.size() > k_max_xattr) {
            return util::error(Code::invalid_input, location + ": custom metadata over " +
                                                        std::to_string(k_max_xattr) + " bytes");
        }
        if (::fsetxattr(fd, k_xattr, value.data(), value.size(), 0) != 0) {
            if ((errno == ENOTSUP || errno == EOPNOTSUPP) && info.metadata.empty()) {
                info.generation = derived_generation(st);
                info.crc32c.clear();
                info.content_type.clear();
                info.component_count = 1;
                return util::ok_status();
            }
            return util::io_error(location +
                                      ": cannot keep its generation and metadata "
                                      "(extended attribute " +
                                      std::string(k_xattr) + ")",
                                  errno);
        }
        return util::ok_status();
    }));
    return info;
}

std::string type_or_default(const std::string& t) {
    return t.empty() ? "application/octet-stream" : t;
}

// ReadOptions' generation (NOT_FOUND when the object is at another one) and
// if_generation_match (PRECONDITION_FAILED), as Cloud Storage answers them.
util::Status check_read_generation(const std::string& location, const std::string& where,
                                   std::int64_t have, const ReadOptions& options) {
    if (options.generation && *options.generation != have) {
        return util::error(Code::not_found,
                           location + ": no generation " + std::to_string(*options.generation));
    }
    if (options.if_generation_match && *options.if_generation_match != have) {
        return precondition_failed(where);
    }
    return util::ok_status();
}

}  // namespace

util::Status LocalStorage::put(const std::string& location, std::string_view data,
                               const std::string&) {
    return util::write_file_atomic(location, data, util::RenameLock::folder);
}

util::Status LocalStorage::put_from_fd(const std::string& location, int fd, std::uint64_t,
                                       const std::string&) {
    return util::copy_file_atomic(location, fd, util::RenameLock::folder);
}

util::Result<ObjectInfo> LocalStorage::stat(const std::string& location) {
    TRY_ASSIGN(Version v, open_version(location));
    return v.info;
}

util::Result<ObjectInfo> LocalStorage::write(const std::string& location, std::string_view data,
                                             const WriteOptions& options) {
    TRY_ASSIGN(FolderLock lock, FolderLock::of(location));
    TRY_ASSIGN(auto current, find_version(location));
    TRY(check_write_precondition("write " + location, current, options));
    ObjectInfo info;
    info.generation = next_generation(current);
    info.content_type = type_or_default(options.content_type);
    info.metadata = options.metadata;
    return publish(location, std::move(info), [&](int fd) -> util::Result<std::uint32_t> {
        TRY(write_all(fd, data, location));
        return crc32c(data);
    });
}

util::Result<ObjectRead> LocalStorage::read(const std::string& location,
                                            const ReadOptions& options) {
    TRY_ASSIGN(Version v, open_version(location));
    const std::string where = "read " + location;
    TRY(check_read_generation(location, where, v.info.generation, options));
    ObjectRead out;
    out.generation = v.info.generation;
    if (options.if_generation_not_match && *options.if_generation_not_match == v.info.generation) {
        out.kind = ObjectRead::Kind::unchanged;
        return out;
    }
    const std::uint64_t size = static_cast<std::uint64_t>(v.st.st_size);
    if (options.offset > 0 && options.offset >= size) {
        out.kind = ObjectRead::Kind::past_end;
        return out;
    }
    const std::uint64_t cap = options.max_bytes > 0 ? options.max_bytes : k_default_max_read;
    if (size - options.offset > cap) {
        return util::error(Code::storage_io, where + ": the object is " + std::to_string(size) +
                                                 " bytes, over the read limit of " +
                                                 std::to_string(cap));
    }
    out.start = options.offset;
    out.size = size;
    out.data.reserve(static_cast<std::size_t>(size - options.offset));
    TRY(pump(v.fd.get(), options.offset, size, where, [&](std::string_view bytes) {
        out.data.append(bytes);
        return util::ok_status();
    }));
    return out;
}

util::Result<ObjectInfo> LocalStorage::read_to(const std::string& location, const ByteSink& sink,
                                               const ReadOptions& options) {
    TRY_ASSIGN(Version v, open_version(location));
    const std::string where = "read " + location;
    TRY(check_read_generation(location, where, v.info.generation, options));
    const std::uint64_t size = static_cast<std::uint64_t>(v.st.st_size);
    if (options.offset > 0 && options.offset >= size) {
        return util::error(Code::storage_io, where + ": offset " + std::to_string(options.offset) +
                                                 " is past the object's end");
    }
    if (options.max_bytes > 0 && size - options.offset > options.max_bytes) {
        return util::error(Code::storage_io, where + ": the object is over the read limit of " +
                                                 std::to_string(options.max_bytes) + " bytes");
    }
    TRY(pump(v.fd.get(), options.offset, size, where, sink));
    return v.info;
}

util::Result<ObjectInfo> LocalStorage::compose(const std::string& destination,
                                               const std::vector<SourceObject>& sources,
                                               const WriteOptions& options) {
    const std::string where = "compose " + destination;
    if (sources.empty() || sources.size() > 32) {
        return util::error(Code::invalid_input, where + ": compose takes 1 to 32 sources, not " +
                                                    std::to_string(sources.size()));
    }
    TRY_ASSIGN(FolderLock lock, FolderLock::of(destination));
    std::vector<Version> parts;
    int components = 0;
    for (const auto& s : sources) {
        auto v = open_version(s.location);
        if (!v.ok()) {
            return v.status();
        }
        if (s.generation && *s.generation != v->info.generation) {
            return precondition_failed(where + ": source " + s.location);
        }
        components += v->info.component_count;
        parts.push_back(std::move(v).value());
    }
    TRY_ASSIGN(auto current, find_version(destination));
    TRY(check_write_precondition(where, current, options));
    ObjectInfo info;
    info.generation = next_generation(current);
    info.component_count = components;
    info.content_type = type_or_default(options.content_type);
    info.metadata = options.metadata;
    return publish(destination, std::move(info), [&](int fd) -> util::Result<std::uint32_t> {
        std::uint32_t crc = 0;
        for (const auto& part : parts) {
            TRY(pump(part.fd.get(), 0, static_cast<std::uint64_t>(part.st.st_size), where,
                     [&](std::string_view bytes) {
                         crc = crc32c(bytes, crc);
                         return write_all(fd, bytes, destination);
                     }));
        }
        return crc;
    });
}

util::Result<ObjectInfo> LocalStorage::copy(const SourceObject& source,
                                            const std::string& destination,
                                            const WriteOptions& options) {
    const std::string where = "copy " + source.location + " to " + destination;
    TRY_ASSIGN(FolderLock lock, FolderLock::of(destination));
    TRY_ASSIGN(Version from, open_version(source.location));
    if (source.generation && *source.generation != from.info.generation) {
        return util::error(Code::not_found, source.location + ": no generation " +
                                                std::to_string(*source.generation));
    }
    TRY_ASSIGN(auto current, find_version(destination));
    TRY(check_write_precondition(where, current, options));
    ObjectInfo info;
    info.generation = next_generation(current);
    info.content_type = options.content_type.empty() ? type_or_default(from.info.content_type)
                                                     : options.content_type;
    info.metadata = options.metadata.empty() ? from.info.metadata : options.metadata;
    return publish(destination, std::move(info), [&](int fd) -> util::Result<std::uint32_t> {
        std::uint32_t crc = 0;
        TRY(pump(from.fd.get(), 0, static_cast<std::uint64_t>(from.st.st_size), where,
                 [&](std::string_view bytes) {
                     crc = crc32c(bytes, crc);
                     return write_all(fd, bytes, destination);
                 }));
        return crc;
    });
}

}  // namespace assetgen::storage
