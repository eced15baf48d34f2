// Chapter 07: delete an image by tag (refused) and by digest, see that the bytes stay, and
// prepare the garbage collection that gives the disk space back.
//
// Usage: 07_delete_and_garbage_collect [registry [upstream]]
//   e.g. 07_delete_and_garbage_collect localhost:5000 localhost:5001
#include "wbclient/distribution/registry_client.hpp"
#include "wbclient/http/url.hpp"
#include "noise.hpp"
#include "program_options.hpp"
#include "wbclient/image/image_builder.hpp"
#include "wbclient/transfer/image_transfer.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

namespace fs = std::filesystem;
using namespace wbclient;

namespace {

// Layer files are written here and removed at exit: once pushed, the registry has its own copy.
struct ScratchFolder {
    fs::path path = fs::temp_directory_path() / ("gc-demo-" + std::to_string(::getpid()));
    ScratchFolder() { fs::create_directories(path); }
    ~ScratchFolder() {
        std::error_code ignored;
        fs::remove_all(path, ignored);
    }
};

// One file of `kib` KiB of noise: gzip cannot shrink it, so the disk space a garbage collection
// gives back is plain to see. A fixed seed makes every run build the same bytes and digests.
ImageLayer noise_layer(const fs::path& folder, const std::string& file, unsigned kib, unsigned seed) {
    LayerBuilder layer;
    layer.add_file(file, workbook::noise(kib * 1024, seed));
    return {layer.write(folder / (file + ".tar.gz")), "ADD " + file + " /"};
}

std::string kib(std::uint64_t bytes) { return std::to_string((bytes + 512) / 1024) + " KiB"; }

std::string status_of(const std::optional<std::uint64_t>& size) {
    return size ? "200, " + std::to_string(*size) + " bytes" : "404 Not Found";
}

}  // namespace

int main(int argc, char* argv[]) try {
    if (argc > 3) {
        std::cerr << "usage: " << argv[0] << " [registry [upstream]]   e.g. localhost:5000 localhost:5001\n";
        return EXIT_FAILURE;
    }
    RegistryClient client(argc > 1 ? argv[1] : workbook::default_registry(), workbook::client_options());
    RegistryClient upstream(argc > 2 ? argv[2] : workbook::default_upstream(), workbook::client_options());
    const std::string host = Url(client.base_url()).authority();
    const ScratchFolder scratch;
    std::cout << "== Three images of our own\n";

    //! [gc_demo_images]
    // A base image, and an app image built on it: the app's first layer is the base's layer.
    const ImageLayer shared = noise_layer(scratch.path, "base.bin", 64, 1);
    const BuiltImage base = assemble_image({}, {shared});
    const BuiltImage app = assemble_image({}, {shared, noise_layer(scratch.path, "app.bin", 192, 2)});
    push_image(client, Reference::parse(host + "/gc-demo/base:1.0"), base);
    push_image(client, Reference::parse(host + "/gc-demo/app:1.0"), app);
    client.put_manifest("gc-demo/app", "latest", app.manifest_blob.media_type, app.manifest);
    //! [gc_demo_images]
    const Descriptor& app_layer = app.layers[1].built.blob;
    std::cout << "Pushed gc-demo/base:1.0 " << base.manifest_blob.digest.str() << "\n  its layer "
              << shared.built.blob.digest.str() << " (" << kib(shared.built.blob.size) << ")\n"
              << "Pushed gc-demo/app:1.0 and :latest " << app.manifest_blob.digest.str()
              << "\n  the same first layer, and its own " << app_layer.digest.str() << " (" << kib(app_layer.size)
              << ")\n";

    //! [index_by_digest]
    // An index of two images that have no tag of their own: the index names them by digest.
    nlohmann::json index = {{"schemaVersion", 2}, {"mediaType", media_type::oci_index}, {"manifests", nlohmann::json::array()}};
    for (const std::string architecture : {"amd64", "arm64"}) {
        const BuiltImage child = assemble_image({.architecture = architecture},
                                                {noise_layer(scratch.path, architecture + ".bin", 32, architecture == "amd64" ? 3 : 4)});
        push_image(client, {.registry = host, .repository = "gc-demo/multi", .digest = child.manifest_blob.digest}, child);
        Descriptor entry = child.manifest_blob;
        entry.platform = Platform{.os = "linux", .architecture = architecture};
        index["manifests"].push_back(descriptor_to_json(entry));
        std::cout << "Pushed gc-demo/multi@" << entry.digest.str() << " (linux/" << architecture << ", no tag)\n";
    }
    const Digest index_digest = client.put_manifest("gc-demo/multi", "latest", media_type::oci_index, index.dump());
    //! [index_by_digest]
    std::cout << "Pushed gc-demo/multi:latest " << index_digest.str() << ", the index naming both\n";

    //! [delete_by_tag]
    // DELETE by tag: the specification allows it, registry 2.8.2 does not.
    std::cout << "\n== Delete by tag\n";
    const Request by_tag{.method = "DELETE", .url = client.url("gc-demo/app", "manifests/latest")};
    const Response refused = client.http().perform(by_tag);
    std::cout << (refused.status == 202 ? "DELETE gc-demo/app:latest: 202, this registry deletes tags"
                                        : RegistryError(by_tag, refused, explain_delete_refusal(by_tag, refused)).what())
              << "\n";
    //! [delete_by_tag]

    //! [delete_by_digest]
    // HEAD the tag for its digest, DELETE the digest: every tag pointing at it goes with it.
    std::cout << "\n== Delete by digest\n";
    const Digest deleted = delete_manifest(client, "gc-demo/app", "1.0");
    // tags/list as it comes: with every tag gone, 2.8.2 writes "tags":null, not an empty list.
    const Request tag_list{.url = client.url("gc-demo/app", "tags/list")};
    const Response tags_left = client.http().perform(tag_list);
    //! [delete_by_digest]
    std::cout << "DELETE gc-demo/app@" << deleted.str() << ": 202 Accepted\nGET gc-demo/app tags/list: "
              << tags_left.status << " " << tags_left.reason << ", " << tags_left.body;
    if (!tags_left.body.ends_with('\n')) std::cout << "\n";
    for (const std::string& reference : {std::string("1.0"), std::string("latest"), deleted.str()}) {
        const Request get{.url = client.url("gc-demo/app", "manifests/" + reference)};
        const Response answer = client.http().perform(get);
        std::cout << "GET gc-demo/app manifest " << reference << ": " << answer.status << " " << answer.reason
                  << (answer.status >= 400 ? ", " + RegistryError(get, answer).code() : "") << "\n";
    }
    if (deleted != app.manifest_blob.digest)
        throw std::runtime_error("gc-demo/app:1.0 was " + deleted.str() + ", not the image just pushed");

    //! [soft_delete]
    // The manifest is gone from the repository, but the blobs it named are still served.
    std::cout << "\n== What a delete leaves behind\n";
    for (const Descriptor& blob : {app.config_blob, shared.built.blob, app_layer}) {
        const auto size = client.blob_size("gc-demo/app", blob.digest);
        std::cout << "HEAD gc-demo/app blob " << blob.digest.str() << ": " << status_of(size) << "\n";
    }
    //! [soft_delete]

    //! [delete_blob]
    // A blob DELETE removes one repository's link to the bytes, nothing more.
    delete_blob(client, "gc-demo/app", shared.built.blob.digest);
    const auto in_app = client.blob_size("gc-demo/app", shared.built.blob.digest);
    const auto in_base = client.blob_size("gc-demo/base", shared.built.blob.digest);
    //! [delete_blob]
    std::cout << "DELETE gc-demo/app blob " << shared.built.blob.digest.str() << ": 202 Accepted\n"
              << "  HEAD in gc-demo/app:  " << status_of(in_app) << "\n  HEAD in gc-demo/base: " << status_of(in_base)
              << "\n";

    //! [delete_disabled]
    // Where deleting is switched off, as on the upstream (and Docker Hub), every DELETE is 405.
    std::cout << "\n== Where deleting is switched off\n";
    const Digest busybox = head_manifest(upstream, "library/busybox", "latest").digest;
    try {
        delete_manifest(upstream, "library/busybox", busybox);
        throw std::runtime_error("the upstream deleted library/busybox@" + busybox.str() + "; it should refuse");
    } catch (const RegistryError& refusal) {
        if (refusal.status() != 405) throw;
        std::cout << refusal.what() << "\n";
    }
    //! [delete_disabled]

    //! [catalog_after]
    // An empty repository stays in the catalog: deleting never removes a repository.
    std::cout << "\n== The catalog afterwards\n";
    for (const std::string& repository : list_repositories(client, 100)) {
        if (!repository.starts_with("gc-demo/")) continue;
        const std::vector<std::string> tags = list_tags(client, repository);
        std::cout << "  " << repository << ":" << (tags.empty() ? " (no tags)" : "");
        for (const auto& tag : tags) std::cout << " " << tag;
        std::cout << "\n";
    }
    //! [catalog_after]

    std::cout << "\n== Next: give the disk space back\n"
              << "The registry still stores every byte. Stop it, then let its garbage collector look first:\n"
              << "  docker compose stop registry\n"
              << "  docker compose run --rm registry garbage-collect --dry-run /etc/docker/registry/config.yml\n"
              << "Among the blobs it finds eligible for deletion should be these three, which no tag needs:\n  " << deleted.str()
              << " (the app's manifest)\n  " << app.config_blob.digest.str() << " (the app's config)\n  "
              << app_layer.digest.str() << " (the app's own layer)\nand keep the shared layer "
              << shared.built.blob.digest.str() << ", which gc-demo/base:1.0 still needs.\n"
              << "Run it again without --dry-run to delete them, then: docker compose start registry\n"
              << "(A native registry: docker-registry garbage-collect [--dry-run] <its config.yml>.)\n";
    return EXIT_SUCCESS;
} catch (const std::exception& error) {
    std::cerr << "07_delete_and_garbage_collect: " << error.what() << "\n";
    return EXIT_FAILURE;
}
