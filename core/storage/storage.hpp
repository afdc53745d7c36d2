#pragma once
// The storage seam: whole objects in a local folder or in Cloud Storage, addressed by a
// location string ("out/job/a.png" or "gs://bucket/prefix/a.png").

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/retry.hpp"
#include "util/status.hpp"

namespace assetgen::storage {

// True for "gs://..." locations.
bool is_gcs(std::string_view location);
// Joins a base location and a relative name with exactly one '/'.
std::string join(std::string_view base, std::string_view name);

// Custom metadata of an object: Cloud Storage's "metadata", a local file's extended attribute.
using Metadata = std::map<std::string, std::string>;

// What a store knows of one version of an object.
struct ObjectInfo {
    std::int64_t generation = 0;  // changes with every write of the object; never 0
    std::uint64_t size = 0;
    int component_count = 1;  // objects composed into it (1 for a plain write)
    std::string content_type;
    std::string crc32c;  // base64 of the big-endian CRC32C, "" when the store keeps none
    Metadata metadata;
};

// A caller's own retry rules for one call, in place of the store's (Cloud Storage: the
// client's GcsRetryOptions). Which calls are safe to repeat stays the store's rule (a write
// without a generation precondition is still not repeated once sent). The caller must not
// retry the call again on top (the attempts would multiply). LocalStorage makes one attempt
// and ignores it.
struct CallRetry {
    std::optional<util::RetryPolicy> policy;  // unset: the store's own policy
    // Called before each wait, after a failed attempt (counters, log lines).
    std::function<void(const util::RetryNotice&)> on_retry;
    bool empty() const { return !policy && !on_retry; }
};

// A write's precondition and what it stores beside the bytes.
struct WriteOptions {
    std::string content_type;                         // "" = application/octet-stream
    std::optional<std::int64_t> if_generation_match;  // 0: the object must not exist yet
    Metadata metadata;                                // replaces the object's custom metadata
    CallRetry retry;                                  // write, compose and copy honour it
};

// Which bytes of which version a read wants.
struct ReadOptions {
    std::optional<std::int64_t> generation;           // that version; NOT_FOUND when it is not live
    std::optional<std::int64_t> if_generation_match;  // else a failed precondition (412)
    std::optional<std::int64_t> if_generation_not_match;  // still that version: unchanged
    std::uint64_t offset = 0;                             // from here to the end
    std::uint64_t max_bytes = 0;  // refuse (STORAGE_IO) above this; 0: the store's default
    CallRetry retry;              // read and read_to honour it
};

// What a read found.
struct ObjectRead {
    enum class Kind {
        data,       // data holds the bytes from `start`
        unchanged,  // the live generation is if_generation_not_match
        past_end,   // offset > 0 and at or past the object's end (as HTTP 416)
    };
    Kind kind = Kind::data;
    std::string data;
    std::uint64_t start = 0;
    std::uint64_t size = 0;  // the whole object's size (kind data)
    std::int64_t generation = 0;
};

// One source of a compose or a copy: the live version, or exactly that generation.
struct SourceObject {
    std::string location;
    std::optional<std::int64_t> generation;
};

// Receives a streamed read's bytes in order; a non-ok status stops the read and is returned.
using ByteSink = std::function<util::Status(std::string_view)>;

// Bytes to write without holding them whole: `size` bytes, of which read() puts the `n` from
// `offset` into `out` (replacing its content). Reading a range again gives the same bytes.
struct ByteSource {
    std::uint64_t size = 0;
    std::function<util::Status(std::uint64_t offset, std::size_t n, std::string& out)> read;
};
// The first `size` bytes of an open file, read with pread (the file stays open and unchanged
// while the source is used). STORAGE_IO naming `what` when a read fails or comes up short.
ByteSource fd_byte_source(int fd, std::uint64_t size, std::string what);

// The status of a write or read whose generation precondition did not hold: STORAGE_IO with
// HTTP status 412, on every store (so is_precondition_failed tells it apart).
util::Status precondition_failed(const std::string& where);
// True for that status (and for Cloud Storage's own 412 answers).
bool is_precondition_failed(const util::Status& status);

class Storage {
public:
    virtual ~Storage() = default;
    // Writes a whole object; durable when it returns (local: temp + fsync + rename).
    virtual util::Status put(const std::string& location, std::string_view data,
                             const std::string& content_type) = 0;
    // Writes the first `size` bytes of the open file fd as a whole object, as put, without
    // holding them whole where the store can (Cloud Storage: a resumable session, one chunk at
    // a time; local: a copy). fd is read with pread and must not change meanwhile. The
    // default reads it whole and calls put (for test doubles).
    virtual util::Status put_from_fd(const std::string& location, int fd, std::uint64_t size,
                                     const std::string& content_type);
    // As put, but the object need only be whole and visible when this returns: it is durable
    // once a later sync_puts() has returned (a group commit makes many images durable with one
    // sync). A crash before that may leave no object, the old one, or the name with bytes
    // missing: nothing durable may point at it until then. The default is put (Cloud Storage: a
    // write is durable when it returns; test doubles).
    virtual util::Status put_unsynced(const std::string& location, std::string_view data,
                                      const std::string& content_type) {
        return put(location, data, content_type);
    }
    // Makes every put_unsynced that returned before this call durable. STORAGE_IO on failure
    // (then those objects must be taken as lost). The default has nothing to do.
    virtual util::Status sync_puts() { return util::Status(); }
    // Reads a whole object. NOT_FOUND when missing.
    virtual util::Result<std::string> get(const std::string& location) = 0;
    virtual util::Result<bool> exists(const std::string& location) = 0;
    // Locations of the objects whose names start with prefix (local: files below a folder).
    virtual util::Result<std::vector<std::string>> list(const std::string& prefix) = 0;

    // Generations and preconditions (same semantics on every store; core/README.md, "Storage
    // with generations"). The defaults answer INTERNAL "not supported" for stores that keep no
    // generations (test doubles).
    //
    // The live version's info. NOT_FOUND when missing.
    virtual util::Result<ObjectInfo> stat(const std::string& location);
    // Writes a whole object under options' precondition (412 when it does not hold); the new
    // version's info.
    virtual util::Result<ObjectInfo> write(const std::string& location, std::string_view data,
                                           const WriteOptions& options);
    // Reads bytes of a version (see ReadOptions, ObjectRead). NOT_FOUND when missing.
    virtual util::Result<ObjectRead> read(const std::string& location, const ReadOptions& options);
    // Streams a version's bytes from options.offset into sink without holding them whole
    // (if_generation_not_match is ignored); the info of the version read.
    virtual util::Result<ObjectInfo> read_to(const std::string& location, const ByteSink& sink,
                                             const ReadOptions& options);
    // Concatenates 1-32 sources (their generations checked when given) into destination under
    // options' precondition; component_count adds up.
    virtual util::Result<ObjectInfo> compose(const std::string& destination,
                                             const std::vector<SourceObject>& sources,
                                             const WriteOptions& options);
    // Copies source to destination (Cloud Storage: rewrite, which also flattens a composite
    // object to one component) under options' precondition; empty options.metadata and
    // content_type keep the source's.
    virtual util::Result<ObjectInfo> copy(const SourceObject& source,
                                          const std::string& destination,
                                          const WriteOptions& options);
};

// A local folder (locations are paths). Generations and custom metadata live in the extended
// attribute "user.assetgen.object" of each file, set on the temp file before the rename that
// publishes it; preconditions are checked under an flock of the file's folder (core/README.md),
// and put's renames take the same lock. Ignores a call's CallRetry (one attempt).
//
// put_unsynced writes and renames without any fsync; sync_puts then calls syncfs(2) once for
// each filesystem that put_unsynced wrote to (a descriptor of the first folder written on it,
// opened before that first write and kept, so syncfs reports every writeback error since;
// Linux >= 5.8). syncfs writes back the filesystem's dirty data and commits its journal: the
// files' bytes, their names and the folders made for them are durable together when it returns.
class LocalStorage final : public Storage {
public:
    LocalStorage();
    ~LocalStorage() override;
    util::Status put(const std::string& location, std::string_view data,
                     const std::string& content_type) override;
    util::Status put_unsynced(const std::string& location, std::string_view data,
                              const std::string& content_type) override;
    util::Status sync_puts() override;
    // A copy of fd into a temp file, fsynced and renamed into place.
    util::Status put_from_fd(const std::string& location, int fd, std::uint64_t size,
                             const std::string& content_type) override;
    util::Result<std::string> get(const std::string& location) override;
    util::Result<bool> exists(const std::string& location) override;
    util::Result<std::vector<std::string>> list(const std::string& prefix) override;

    util::Result<ObjectInfo> stat(const std::string& location) override;
    util::Result<ObjectInfo> write(const std::string& location, std::string_view data,
                                   const WriteOptions& options) override;
    util::Result<ObjectRead> read(const std::string& location, const ReadOptions& options) override;
    util::Result<ObjectInfo> read_to(const std::string& location, const ByteSink& sink,
                                     const ReadOptions& options) override;
    util::Result<ObjectInfo> compose(const std::string& destination,
                                     const std::vector<SourceObject>& sources,
                                     const WriteOptions& options) override;
    util::Result<ObjectInfo> copy(const SourceObject& source, const std::string& destination,
                                  const WriteOptions& options) override;

private:
    struct Unsynced;  // the filesystems put_unsynced wrote to (local_sync.cpp)
    std::unique_ptr<Unsynced> m_unsynced;
};

}  // namespace assetgen::storage
