// Chapter 05: extend a base image by one layer, push it three ways, and count what each push sent.
//
// Usage: 05_base_and_extending_images [--storage DIR] [base [same-repo [other-repo [naive]]]]
//   e.g. 05_base_and_extending_images --storage /var/lib/registry localhost:5000/my-busybox:latest
//        (the defaults push my-busybox:extended, my-app:latest and my-app-naive:latest there)
#include "program_options.hpp"
#include "wbclient/transfer/image_extension.hpp"
#include "wbclient/image/layer_extractor.hpp"

#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>

namespace fs = std::filesystem;
using namespace wbclient;

namespace {

const std::string usage =
    "05_base_and_extending_images [--storage DIR] [base [same-repo [other-repo [naive]]]]";

// What the client sent while one push ran: request bodies, by kind, and requests by method.
struct Traffic {
    std::uint64_t blob_bytes = 0, manifest_bytes = 0, received = 0;
    std::map<std::string, int> requests;
    std::string summary() const {
        std::ostringstream out;
        out << blob_bytes << " bytes of blobs + " << manifest_bytes << " bytes of manifest, in";
        for (const auto& [method, count] : requests) out << " " << count << " " << method;
        return out.str();
    }
};

// What a registry's filesystem storage holds under blobs/: every blob, manifests included, once.
struct BlobStore {
    std::size_t files = 0;
    std::uint64_t bytes = 0;
};
BlobStore measure(const fs::path& storage) {
    BlobStore store;
    for (const auto& entry : fs::recursive_directory_iterator(storage / "docker/registry/v2/blobs"))
        if (entry.is_regular_file() && entry.path().filename() == "data") {
            ++store.files;
            store.bytes += entry.file_size();
        }
    return store;
}

// What `docker push` prints for a layer, for each way a blob got there.
std::string docker_says(BlobAction action, const std::string& mounted_from) {
    if (action == BlobAction::already_there) return "Layer already exists";
    if (action == BlobAction::mounted) return "Mounted from " + mounted_from;
    return "Pushed";
}

}  // namespace

int main(int argc, char* argv[]) try {
    std::vector<std::string> positional;
    std::optional<fs::path> storage;
    if (const std::string storage_env = workbook::environment_value("WORKBOOK_STORAGE"); !storage_env.empty())
        storage = storage_env;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--storage" && i + 1 < argc)
            storage = argv[++i];
        else if (arg.starts_with("--") || positional.size() == 4)
            throw std::invalid_argument("unexpected argument '" + arg + "'; usage: " + usage);
        else
            positional.push_back(arg);
    }
    if (storage && !fs::is_directory(*storage / "docker/registry/v2/blobs"))
        throw std::invalid_argument(storage->string() +
                                    " is not a registry's storage root (no docker/registry/v2/blobs)");
    const auto argument = [&](std::size_t i, const std::string& fallback) {
        return Reference::parse(positional.size() > i ? positional[i] : fallback, workbook::default_registry());
    };
    const Reference base_ref = argument(0, workbook::default_registry() + "/my-busybox:latest");
    const struct Push {
        Reference to;
        PushMode mode;
        std::string why;
    } pushes[] = {
        {argument(1, base_ref.registry + "/" + base_ref.repository + ":extended"), PushMode::reuse_layers,
         "into the base's own repository"},
        {argument(2, base_ref.registry + "/my-app:latest"), PushMode::reuse_layers, "into another repository"},
        {argument(3, base_ref.registry + "/my-app-naive:latest"), PushMode::upload_everything,
         "the naive way, every blob again"}};
    for (const Push& push : pushes)
        if (push.to.registry != base_ref.registry)
            throw std::invalid_argument(push.to.str() + " is not on " + base_ref.registry +
                                        ", the base's registry");

    RegistryClient registry(base_ref.registry, workbook::client_options());
    Traffic traffic;
    registry.http().add_observer([&](const Exchange& e) {
        ++traffic.requests[e.method];
        traffic.received += e.bytes_received;
        (e.url.find("/manifests/") != std::string::npos ? traffic.manifest_bytes : traffic.blob_bytes) +=
            e.bytes_sent;
    });
    // A scratch folder for the base and the new layer; never committed, so removed at exit.
    StagedDirectory scratch(fs::temp_directory_path() / "05_base_and_extending_images", true);

    //! [pull_base]
    // `FROM my-busybox`: the base's manifest, config and layers, pulled and verified.
    std::cout << "FROM " << base_ref.str() << "\n";
    const BaseImage base = pull_base_image(registry, base_ref, scratch.path() / "base.oci");
    //! [pull_base]
    std::cout << "  " << base.parsed.layers.size() << " layer(s), manifest " << base.manifest_blob.digest.str()
              << " (" << base.parsed.media_type << ")\n  " << traffic.received << " bytes downloaded\n";

    //! [extend]
    // `COPY hello.sh /app/` + `CMD ["/app/hello.sh"]`: one layer on top, the config extended.
    LayerBuilder files;
    files.add_directory("app");
    files.add_file("app/hello.sh", "#!/bin/sh\necho \"Hello from my-app, one layer on top of my-busybox.\"\n",
                   0755);
    const Extension extension{.layer = files.write(scratch.path() / "app.tar.gz", layer_media_type_for(base)),
                              .created_by = "COPY hello.sh /app/hello.sh # by 05_base_and_extending_images",
                              .cmd = {"/app/hello.sh"}};
    const BuiltImage image = extend_image(base, extension);
    //! [extend]
    std::cout << "The extending image: " << image.layers.size() << " layers, manifest "
              << image.manifest_blob.digest.str() << "\n  its config: " << image.config << "\n";
    std::map<std::string, std::string> role{{image.config_blob.digest.str(), "config"},
                                            {extension.layer.blob.digest.str(), "new layer"}};
    for (const Descriptor& layer : base.parsed.layers) role.emplace(layer.digest.str(), "base layer");

    std::ostringstream table;
    table << "push                  blob bytes sent   manifest bytes sent"
          << (storage ? "   storage growth" : "") << "\n";
    for (const Push& push : pushes) {
        std::cout << "\nPushing " << push.to.str() << ", " << push.why << "\n";
        const BlobStore before = storage ? measure(*storage) : BlobStore{};
        traffic = {};
        //! [push]
        const Digest pushed =
            push_extending_image(registry, push.to, image, base, push.mode, [&](const BlobEvent& e) {
                std::cout << "  " << docker_says(e.action, base_ref.repository) << ": "
                          << role[e.blob.digest.str()] << " " << e.blob.digest.str() << " (" << e.blob.size
                          << " bytes)\n";
            });
        //! [push]
        std::cout << "  manifest " << pushed.str() << "\n  sent " << traffic.summary() << "\n";
        table << std::left << std::setw(22) << push.to.repository + ":" + push.to.tag << std::right
              << std::setw(15) << traffic.blob_bytes << std::setw(22) << traffic.manifest_bytes;
        if (storage) {
            const BlobStore after = measure(*storage);
            std::cout << "  the registry's blobs/ grew by " << after.files - before.files << " file(s), "
                      << after.bytes - before.bytes << " bytes\n";
            table << "   +" << after.files - before.files << " blob(s), +" << after.bytes - before.bytes
                  << " bytes";
        }
        table << "\n";
    }
    std::cout << "\n" << table.str();
    if (!storage)
        std::cout << "(--storage DIR or WORKBOOK_STORAGE: the registry's storage root, to measure "
                     "it too)\n";

    //! [storage]
    // The server's side: one data file per blob, and a link to it in each repository.
    for (const Descriptor& layer : storage ? base.parsed.layers : std::vector<Descriptor>{}) {
        const std::string hex(layer.digest.hex());
        const fs::path data = *storage / "docker/registry/v2/blobs/sha256" / hex.substr(0, 2) / hex / "data";
        std::cout << "base layer " << layer.digest.str() << ": " << fs::file_size(data) << " bytes in "
                  << data.lexically_relative(*storage).string() << ", linked from";
        for (const Reference& repository : {base_ref, pushes[1].to, pushes[2].to})
            if (fs::exists(*storage / "docker/registry/v2/repositories" / repository.repository /
                           "_layers/sha256" / hex / "link"))
                std::cout << " " << repository.repository;
        std::cout << "\n";
    }
    //! [storage]
    return EXIT_SUCCESS;
} catch (const std::exception& error) {
    std::cerr << "05_base_and_extending_images: " << error.what() << "\n";
    return EXIT_FAILURE;
}
