#include "storage/storage.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>

#include "util/atomic_file.hpp"

namespace assetgen::storage {

bool is_gcs(std::string_view location) {
    return location.substr(0, 5) == "gs://";
}

std::string join(std::string_view base, std::string_view name) {
    while (!base.empty() && base.back() == '/') {
        base.remove_suffix(1);
    }
    while (!name.empty() && name.front() == '/') {
        name.remove_prefix(1);
    }
    if (base.empty()) {
        return std::string(name);
    }
    return std::string(base) + "/" + std::string(name);
}

util::Status precondition_failed(const std::string& where) {
    util::Status s(util::Code::storage_io,
                   where + ": the generation precondition did not hold (the object changed)");
    s.with_http_status(412);
    return s;
}

namespace {

util::Status unsupported(const std::string& what, const std::string& location) {
    return util::error(util::Code::internal,
                       what + " " + location + ": this storage keeps no generations");
}

}  // namespace

ByteSource fd_byte_source(int fd, std::uint64_t size, std::string what) {
    return ByteSource{
        size,
        [fd, size, what = std::move(what)](std::uint64_t offset, std::size_t n, std::string& out) {
            if (offset > size || n > size - offset) {
                return util::Status(util::Code::internal, what + ": read past the end");
            }
            out.resize(n);
            std::size_t got = 0;
            while (got < n) {
                const ssize_t r =
                    ::pread(fd, out.data() + got, n - got, static_cast<off_t>(offset + got));
                if (r < 0 && errno == EINTR) {
                    continue;
                }
                if (r < 0) {
                    return util::io_error(what + ": read failed", errno);
                }
                if (r == 0) {
                    return util::Status(util::Code::storage_io, what + ": the file ended at " +
                                                                    std::to_string(offset + got) +
                                                                    " of " + std::to_string(size) +
                                                                    " bytes");
                }
                got += static_cast<std::size_t>(r);
            }
            return util::ok_status();
        }};
}

util::Status Storage::put_from_fd(const std::string& location, int fd, std::uint64_t size,
                                  const std::string& content_type) {
    std::string all;
    TRY(fd_byte_source(fd, size, location).read(0, static_cast<std::size_t>(size), all));
    return put(location, all, content_type);
}

util::Result<ObjectInfo> Storage::stat(const std::string& location) {
    return unsupported("stat", location);
}

util::Result<ObjectInfo> Storage::write(const std::string& location, std::string_view,
                                        const WriteOptions&) {
    return unsupported("write", location);
}

util::Result<ObjectRead> Storage::read(const std::string& location, const ReadOptions&) {
    return unsupported("read", location);
}

util::Result<ObjectInfo> Storage::read_to(const std::string& location, const ByteSink&,
                                          const ReadOptions&) {
    return unsupported("read", location);
}

util::Result<ObjectInfo> Storage::compose(const std::string& destination,
                                          const std::vector<SourceObject>&, const WriteOptions&) {
    return unsupported("compose", destination);
}

util::Result<ObjectInfo> Storage::copy(const SourceObject& source, const std::string&,
                                       const WriteOptions&) {
    return unsupported("copy", source.location);
}

util::Result<std::string> LocalStorage::get(const std::string& location) {
    return util::read_file(location);
}

util::Result<bool> LocalStorage::exists(const std::string& location) {
    std::error_code ec;
    bool e = std::filesystem::exists(location, ec);
    if (ec) {
        return util::error(util::Code::storage_io, location + ": " + ec.message());
    }
    return e;
}

util::Result<std::vector<std::string>> LocalStorage::list(const std::string& prefix) {
    std::vector<std::string> out;
    std::error_code ec;
    if (!std::filesystem::is_directory(prefix, ec)) {
        return out;
    }
    for (auto it = std::filesystem::recursive_directory_iterator(prefix, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_regular_file()) {
            out.push_back(it->path().string());
        }
    }
    if (ec) {
        return util::io_error(prefix + ": cannot list", ec.value());
    }
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace assetgen::storage
