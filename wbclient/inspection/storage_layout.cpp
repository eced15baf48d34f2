#include "wbclient/inspection/storage_layout.hpp"
#include "wbclient/model/files.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace fs = std::filesystem;

namespace wbclient {
namespace {

bool by_text(const Digest& a, const Digest& b) { return a.str() < b.str(); }

// A link file holds one digest. Under .../sha256/<hex>/link it must be the folder's own.
Digest read_link(const fs::path& link, std::optional<std::string_view> folder_hex = std::nullopt) {
    const std::string text = read_file(link);
    Digest digest = [&] {
        try {
            return Digest::parse(text);
        } catch (const std::invalid_argument& error) {
            throw std::runtime_error("malformed link " + link.string() + ": " + error.what());
        }
    }();
    if (folder_hex && digest.hex() != *folder_hex)
        throw std::runtime_error("link " + link.string() + " names " + digest.str() + ", not its folder's digest");
    return digest;
}

// Every <dir>/sha256/<hex>/link, as digests, sorted.
std::vector<Digest> links_under(const fs::path& dir) {
    std::vector<Digest> digests;
    const fs::path algorithm = dir / "sha256";
    if (!fs::is_directory(algorithm)) return digests;
    for (const auto& entry : fs::directory_iterator(algorithm)) {
        const fs::path link = entry.path() / "link";
        // A folder without its link is what a deletion leaves behind in 2.8.2.
        if (fs::is_regular_file(link)) digests.push_back(read_link(link, entry.path().filename().string()));
    }
    std::sort(digests.begin(), digests.end(), by_text);
    return digests;
}

bool is_repository(const fs::path& dir) {
    return fs::is_directory(dir / "_layers") || fs::is_directory(dir / "_manifests") ||
           fs::is_directory(dir / "_uploads");
}

}  // namespace

StorageLayout::StorageLayout(fs::path root) : root_(std::move(root)) {
    if (!fs::exists(root_)) throw std::invalid_argument("storage folder " + root_.string() + " does not exist");
    if (!fs::is_directory(root_)) throw std::invalid_argument("storage " + root_.string() + " is not a folder");
    if (!fs::is_directory(v2()) ||
        (!fs::is_directory(v2() / "blobs") && !fs::is_directory(v2() / "repositories")))
        throw std::invalid_argument(root_.string() +
                                    " is not a registry's storage: it has no docker/registry/v2/blobs or "
                                    "docker/registry/v2/repositories (or nothing was ever pushed to it)");
}

std::vector<std::string> StorageLayout::repository_names() const {
    std::vector<std::string> names;
    const fs::path top = v2() / "repositories";
    if (!fs::is_directory(top)) return names;
    for (auto it = fs::recursive_directory_iterator(top); it != fs::recursive_directory_iterator(); ++it) {
        if (!it->is_directory()) continue;
        // _layers, _manifests and _uploads belong to the repository above them.
        if (it->path().filename().string().starts_with("_")) {
            it.disable_recursion_pending();
            continue;
        }
        if (is_repository(it->path())) names.push_back(it->path().lexically_relative(top).generic_string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

StoredRepository StorageLayout::repository(std::string_view name) const {
    const fs::path dir = v2() / "repositories" / fs::path(std::string(name));
    if (!is_repository(dir)) throw std::runtime_error("no repository " + std::string(name) + " in " + root_.string());
    StoredRepository repository{.name = std::string(name), .has_layers_folder = fs::is_directory(dir / "_layers")};
    repository.layers = links_under(dir / "_layers");
    repository.revisions = links_under(dir / "_manifests" / "revisions");
    if (const fs::path tags = dir / "_manifests" / "tags"; fs::is_directory(tags)) {
        for (const auto& entry : fs::directory_iterator(tags)) {
            const fs::path current = entry.path() / "current" / "link";
            if (!fs::is_regular_file(current)) continue;  // a deleted tag's leftovers
            repository.tags.push_back({.name = entry.path().filename().string(),
                                       .current = read_link(current),
                                       .index = links_under(entry.path() / "index")});
        }
        std::sort(repository.tags.begin(), repository.tags.end(),
                  [](const StoredTag& a, const StoredTag& b) { return a.name < b.name; });
    }
    if (const fs::path uploads = dir / "_uploads"; fs::is_directory(uploads)) {
        for (const auto& entry : fs::directory_iterator(uploads)) {
            StoredUpload upload{.uuid = entry.path().filename().string()};
            if (fs::is_regular_file(entry.path() / "data")) upload.data_size = fs::file_size(entry.path() / "data");
            if (fs::is_regular_file(entry.path() / "startedat"))
                upload.started_at = read_file(entry.path() / "startedat");
            repository.uploads.push_back(std::move(upload));
        }
        std::sort(repository.uploads.begin(), repository.uploads.end(),
                  [](const StoredUpload& a, const StoredUpload& b) { return a.uuid < b.uuid; });
    }
    return repository;
}

std::vector<StoredBlob> StorageLayout::blobs() const {
    std::vector<StoredBlob> found;
    const fs::path top = v2() / "blobs" / "sha256";
    if (!fs::is_directory(top)) return found;
    for (const auto& prefix : fs::directory_iterator(top)) {
        if (!prefix.is_directory()) continue;
        for (const auto& folder : fs::directory_iterator(prefix.path())) {
            const std::string hex = folder.path().filename().string();
            const fs::path data = folder.path() / "data";
            if (!fs::is_regular_file(data)) continue;  // garbage collection removes data first
            if (!hex.starts_with(prefix.path().filename().string()))
                throw std::runtime_error("blob folder " + folder.path().string() + " is under the wrong prefix");
            found.push_back({.digest = Digest::parse("sha256:" + hex), .size = fs::file_size(data), .data = data});
        }
    }
    std::sort(found.begin(), found.end(), [](const StoredBlob& a, const StoredBlob& b) { return by_text(a.digest, b.digest); });
    return found;
}

std::optional<StoredBlob> StorageLayout::blob(const Digest& digest) const {
    const std::string hex(digest.hex());
    const fs::path data = v2() / "blobs" / "sha256" / hex.substr(0, 2) / hex / "data";
    if (!fs::is_regular_file(data)) return std::nullopt;
    return StoredBlob{.digest = digest, .size = fs::file_size(data), .data = data};
}

std::string StorageLayout::relative(const fs::path& path) const {
    return path.lexically_relative(root_).generic_string();
}

}  // namespace wbclient
