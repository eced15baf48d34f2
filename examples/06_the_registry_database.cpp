// Chapter 06: the registry's "database" is its storage folder. Query it directly (repositories,
// tags, blobs, who links what), check every answer against the HTTP API, then read the one real
// database a registry can use: the Redis blob-descriptor cache.
//
// Usage: 06_the_registry_database [--storage DIR] [--redis HOST:PORT] [registry]
//   e.g. 06_the_registry_database --storage /var/lib/registry --redis 127.0.0.1:6379 localhost:5000
//   (defaults: $WORKBOOK_STORAGE, $WORKBOOK_REDIS, $WORKBOOK_REGISTRY or localhost:5000)
#include "wbclient/distribution/registry_client.hpp"
#include "program_options.hpp"
#include "wbclient/inspection/redis_cache.hpp"
#include "wbclient/inspection/storage_layout.hpp"

#include <algorithm>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <map>
#include <optional>
#include <set>

using namespace wbclient;

namespace {

const char* const usage = "[--storage DIR] [--redis HOST:PORT] [registry]";

// Which link folders name each blob: "my-busybox/_layers", "my-busybox/_manifests/revisions".
using Links = std::map<std::string, std::vector<std::string>>;

std::string joined(const std::vector<std::string>& words) {
    std::string text;
    for (const auto& word : words) text += (text.empty() ? "" : ", ") + word;
    return text;
}

}  // namespace

int main(int argc, char* argv[]) try {
    std::string storage_root = workbook::environment_value("WORKBOOK_STORAGE"), redis_address = workbook::environment_value("WORKBOOK_REDIS");
    std::string registry = workbook::default_registry();
    for (int i = 1, positional = 0; i < argc; ++i) {
        const std::string argument = argv[i];
        if ((argument == "--storage" || argument == "--redis") && i + 1 < argc)
            (argument == "--storage" ? storage_root : redis_address) = argv[++i];
        else if (argument.starts_with("-") || positional++ > 0) {
            std::cerr << "usage: " << argv[0] << " " << usage << "   e.g. --storage /var/lib/registry localhost:5000\n";
            return EXIT_FAILURE;
        } else registry = argument;
    }
    if (storage_root.empty()) throw std::invalid_argument("no storage folder: give --storage DIR or set WORKBOOK_STORAGE");

    //! [open]
    // Check every input before printing anything: the folder must look like a registry's storage,
    // and a Redis, if named, must answer PING within its timeout.
    const StorageLayout storage(storage_root);
    std::optional<RedisConnection> redis;
    if (!redis_address.empty()) redis.emplace(RedisAddress::parse(redis_address)).ping();
    RegistryClient client(registry, workbook::client_options());
    //! [open]

    //! [walk_repositories]
    // Each repository is a folder of link files; following them answers "which tags, which
    // manifests, which blobs" without the registry's help.
    std::vector<StoredRepository> repositories;
    Links links;
    for (const std::string& name : storage.repository_names()) {
        StoredRepository repository = storage.repository(name);
        for (const Digest& layer : repository.layers) links[layer.str()].push_back(name + "/_layers");
        for (const Digest& manifest : repository.revisions) links[manifest.str()].push_back(name + "/_manifests/revisions");
        repositories.push_back(std::move(repository));
    }
    //! [walk_repositories]
    std::cout << "== The storage at " << storage.root().string() << "\ndocker/registry/v2/repositories/: "
              << repositories.size() << " repositories\n";
    for (const StoredRepository& repository : repositories) {
        std::cout << "  " << repository.name << ": " << repository.tags.size() << " tags, " << repository.revisions.size()
                  << " in _manifests/revisions, " << repository.layers.size() << " in _layers, "
                  << repository.uploads.size() << " in _uploads\n";
        for (const StoredTag& tag : repository.tags)
            std::cout << "    tag " << tag.name << " -> " << tag.current.str() << " (index: " << tag.index.size() << ")\n";
        for (const StoredUpload& upload : repository.uploads)
            std::cout << "    upload " << upload.uuid << ": "
                      << (upload.data_size ? std::to_string(*upload.data_size) + " bytes received"
                                           : "no data, only its hash state (cancelled)") << "\n";
    }

    //! [reference_counts]
    // Every blob is stored once, whoever pushed it; the links are its reference count.
    const std::vector<StoredBlob> blobs = storage.blobs();
    std::uint64_t stored_bytes = 0, linked_bytes = 0;
    std::cout << "docker/registry/v2/blobs/sha256/: " << blobs.size() << " blobs, and who links each\n";
    for (const StoredBlob& blob : blobs) {
        const std::vector<std::string>& by = links[blob.digest.str()];
        stored_bytes += blob.size;
        linked_bytes += blob.size * by.size();
        std::cout << "  " << blob.digest.str() << std::setw(9) << blob.size << " bytes  " << by.size() << " links: "
                  << (by.empty() ? "(none: garbage collection would delete it)" : joined(by)) << "\n";
    }
    //! [reference_counts]
    std::cout << "Stored: " << stored_bytes << " bytes. One copy per link would take " << linked_bytes << " bytes.\n";

    if (!redis)
        std::cout << "\n== Redis: not configured (give --redis HOST:PORT or set WORKBOOK_REDIS). A registry uses\n"
                     "one only with storage.cache.blobdescriptor: redis; without it, these files are all there is.\n";
    //! [redis_before]
    // What the cache learnt from the pushes alone, before this program asks the registry anything.
    std::set<std::string> cached;
    if (redis) {
        const auto reports = compare_with_storage(read_blob_descriptor_cache(*redis), storage);
        std::cout << "\n== Redis at " << redis->address().str() << ": " << reports.size() << " keys, as the pushes left them\n";
        for (const CacheKeyReport& report : reports) {
            std::cout << "  " << report.key << "\n      " << report.text << "\n";
            cached.insert(report.key);
        }
    }
    //! [redis_before]

    //! [cross_check]
    // The registry answers from these very files: the catalog lists folders with _layers, tags/list
    // the tag folders, a manifest HEAD current/link, a blob HEAD the data file's size.
    int answers = 0;
    auto expect = [&](bool same, const std::string& what) {
        if (!same) throw std::runtime_error("the storage and the registry at " + client.base_url() + " disagree: " + what);
        ++answers;
    };
    std::vector<std::string> listed;
    for (const auto& repository : repositories)
        if (repository.has_layers_folder) listed.push_back(repository.name);
    std::cout << "\n== The same questions to the HTTP API at " << client.base_url() << "\n";
    const std::vector<std::string> catalog = list_repositories(client, 100);
    expect(catalog == listed, "GET /v2/_catalog lists [" + joined(catalog) + "], _layers folders [" + joined(listed) + "]");
    std::cout << "GET /v2/_catalog: [" << joined(catalog) << "], each repository with a _layers folder\n";
    for (const StoredRepository& repository : repositories) {
        if (!repository.has_layers_folder) continue;
        std::vector<std::string> tags = list_tags(client, repository.name), stored_tags;
        std::sort(tags.begin(), tags.end());
        for (const StoredTag& tag : repository.tags) stored_tags.push_back(tag.name);
        expect(tags == stored_tags, repository.name + " tags/list [" + joined(tags) + "], _manifests/tags [" + joined(stored_tags) + "]");
        std::cout << repository.name << ": tags/list [" << joined(tags) << "], as _manifests/tags\n";
        for (const StoredTag& tag : repository.tags) {
            const ManifestSummary head = head_manifest(client, repository.name, tag.name);
            const auto data = storage.blob(tag.current);
            expect(head.digest == tag.current && data && head.size == data->size,
                   repository.name + ":" + tag.name + " is " + head.digest.str() + ", current/link " + tag.current.str());
            std::cout << "  HEAD manifests/" << tag.name << ": " << head.digest.str() << ", " << head.size << " bytes\n";
        }
        for (const Digest& layer : repository.layers) {
            const auto size = client.blob_size(repository.name, layer);
            const auto data = storage.blob(layer);
            expect(size == (data ? std::optional(data->size) : std::nullopt),
                   repository.name + " blob " + layer.str() + ": HEAD and data file differ in size");
            std::cout << "  HEAD blobs/" << layer.str() << ": " << (size ? std::to_string(*size) + " bytes" : "404") << "\n";
        }
    }
    std::cout << answers << " answers, each the same as the storage's.\n";
    //! [cross_check]

    //! [redis_after]
    // Reads fill the cache too: a miss is looked up in the storage and remembered.
    if (redis) {
        const auto reports = compare_with_storage(read_blob_descriptor_cache(*redis), storage);
        std::cout << "\n== Redis again, after those requests: " << reports.size() << " keys; new:\n";
        for (const CacheKeyReport& report : reports)
            if (!cached.contains(report.key)) std::cout << "  " << report.key << "\n      " << report.text << "\n";
    }
    //! [redis_after]
    return EXIT_SUCCESS;
} catch (const std::exception& error) {
    std::cerr << "06_the_registry_database: " << error.what() << "\n";
    return EXIT_FAILURE;
}
