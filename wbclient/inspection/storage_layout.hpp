// The registry's "database": the filesystem storage driver's layout, read directly.
//
// Registry 2.8.2 keeps no database. Everything it knows is a file under its root directory:
//   docker/registry/v2/blobs/sha256/<first 2 hex>/<hex>/data        every blob, stored once
//   docker/registry/v2/repositories/<name>/
//     _layers/sha256/<hex>/link                     "this repository may serve this blob"
//     _manifests/revisions/sha256/<hex>/link        every manifest pushed to it
//     _manifests/tags/<tag>/current/link            the digest the tag points at now
//     _manifests/tags/<tag>/index/sha256/<hex>/link every digest the tag has pointed at
//     _uploads/<uuid>/{data,startedat,hashstates/}  uploads started and not (yet) finished
// A link file holds nothing but a digest, "sha256:<hex>", the one its folder is named after.
// This reader only reads: it never writes, locks or repairs anything.
#pragma once

#include "wbclient/model/digest.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wbclient {

/// A blob's data file.
struct StoredBlob {
    Digest digest;
    std::uint64_t size = 0;        ///< the data file's size: the blob's size
    std::filesystem::path data;    ///< `blobs/sha256/<2>/<hex>/data`
};

/// One tag: what it points at now, and every digest it has pointed at.
struct StoredTag {
    std::string name;
    Digest current;             ///< `_manifests/tags/<tag>/current/link`
    std::vector<Digest> index;  ///< `_manifests/tags/<tag>/index/sha256/*/link`, sorted
};

/// An upload session the registry keeps a folder for.
struct StoredUpload {
    std::string uuid;
    std::optional<std::uint64_t> data_size;  ///< bytes received so far, if a data file is there
    std::optional<std::string> started_at;   ///< the startedat file (RFC 3339), if there
};

/// One repository's folder.
struct StoredRepository {
    std::string name;                 ///< e.g. "library/busybox"
    std::vector<StoredTag> tags;      ///< sorted by name
    std::vector<Digest> revisions;    ///< manifests (_manifests/revisions), sorted
    std::vector<Digest> layers;       ///< configs and layers it links (_layers), sorted
    std::vector<StoredUpload> uploads;
    /// The catalog lists a repository once it has a _layers folder, that is once a blob upload
    /// (or mount) finished in it; a folder with only _uploads is not listed.
    bool has_layers_folder = false;
};

class StorageLayout {
public:
    /// `root` is the driver's rootdirectory (the folder holding docker/). Throws
    /// std::invalid_argument with a one-line reason if it is not a registry's storage.
    explicit StorageLayout(std::filesystem::path root);

    const std::filesystem::path& root() const { return root_; }
    /// root/docker/registry/v2, where everything lives.
    std::filesystem::path v2() const { return root_ / "docker" / "registry" / "v2"; }

    /// Every repository, sorted: each folder under repositories/ holding _layers, _manifests
    /// or _uploads. Names nest ("library" and "library/busybox" can both be repositories).
    std::vector<std::string> repository_names() const;
    /// Reads one repository's links. Throws std::runtime_error naming the file if a link is
    /// malformed or names a digest other than its folder's.
    StoredRepository repository(std::string_view name) const;

    /// Every blob under blobs/sha256, sorted by digest.
    std::vector<StoredBlob> blobs() const;
    /// One blob's data file, if the storage holds it.
    std::optional<StoredBlob> blob(const Digest& digest) const;

    /// The path relative to the root, for printing: "docker/registry/v2/...".
    std::string relative(const std::filesystem::path& path) const;

private:
    std::filesystem::path root_;
};

}  // namespace wbclient
